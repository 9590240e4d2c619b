"""Tests of course_utils.rbm: the free energy, conditionals and log Z against brute-force
enumeration, the CD loss's gradient against the textbook update, PCD's persistent chains,
training raising the exact likelihood, and the DBN stack and its unrolled autoencoder."""

import math

import pytest
import torch

from course_utils.rbm import (RBM, PCDTrainer, binary_states, cd_loss, greedy_stack,
                              log_likelihood, log_partition, train_rbm, unroll)


def random_rbm(n_visible=4, n_hidden=3, seed=0):
    torch.manual_seed(seed)
    rbm = RBM(n_visible, n_hidden, init_std=1.0).double()
    with torch.no_grad():
        rbm.b.normal_()
        rbm.c.normal_()
    return rbm


def joint_table(rbm):
    """exp(-E(v, h)) for every v (rows) and h (columns), by brute force."""
    vs = binary_states(rbm.W.shape[0]).double()
    hs = binary_states(rbm.W.shape[1]).double()
    with torch.no_grad():
        e = torch.stack([rbm.energy(v.expand(len(hs), -1), hs) for v in vs])
    return vs, hs, torch.exp(-e)


def test_binary_states_lists_every_vector_once():
    s = binary_states(3)
    assert s.shape == (8, 3)
    assert len({tuple(row.tolist()) for row in s}) == 8
    with pytest.raises(ValueError, match="n"):
        binary_states(30)


def test_free_energy_and_log_partition_match_enumeration():
    rbm = random_rbm()
    vs, _, joint = joint_table(rbm)
    with torch.no_grad():
        assert torch.allclose(rbm.free_energy(vs), -joint.sum(1).log(), atol=1e-10)
    assert log_partition(rbm) == pytest.approx(math.log(joint.sum().item()), abs=1e-10)
    p = torch.exp(-rbm.free_energy(vs).detach() - log_partition(rbm))
    assert p.sum().item() == pytest.approx(1.0, abs=1e-10)
    assert log_likelihood(rbm, vs[:1]) == pytest.approx(math.log(p[0].item()), abs=1e-10)


def test_conditionals_match_enumeration():
    rbm = random_rbm(3, 2, seed=1)
    vs, hs, joint = joint_table(rbm)
    p_h_given_v = joint / joint.sum(1, keepdim=True)  # (8, 4)
    with torch.no_grad():
        q = rbm.p_h_given_v(vs)  # (8, 2)
        p_h1 = (p_h_given_v[:, :, None] * hs[None]).sum(1)  # P(h_j = 1 | v) by enumeration
        assert torch.allclose(q, p_h1, atol=1e-10)
        r = rbm.p_v_given_h(hs)  # (4, 3)
        p_v_given_h = joint / joint.sum(0, keepdim=True)
        p_v1 = (p_v_given_h[:, :, None] * vs[:, None, :]).sum(0)
        assert torch.allclose(r, p_v1, atol=1e-10)


def test_cd_loss_gradient_is_the_cd_update():
    torch.manual_seed(0)
    rbm = RBM(10, 5, init_std=0.5)
    v = torch.bernoulli(torch.full((16, 10), 0.3))
    torch.manual_seed(1)
    out = cd_loss(k=2)(rbm, (v,))
    grad_w, grad_b, grad_c = torch.autograd.grad(out["loss"], [rbm.W, rbm.b, rbm.c])
    torch.manual_seed(1)
    v_model = rbm.gibbs(v, 2)  # the same negative sample
    with torch.no_grad():
        ph, ph_model = rbm.p_h_given_v(v), rbm.p_h_given_v(v_model)
        assert torch.allclose(grad_w, -(v.T @ ph - v_model.T @ ph_model) / 16, atol=1e-6)
        assert torch.allclose(grad_b, -(v - v_model).mean(0), atol=1e-6)
        assert torch.allclose(grad_c, -(ph - ph_model).mean(0), atol=1e-6)
    assert out["recon"] >= 0
    with pytest.raises(ValueError, match="k"):
        cd_loss(0)


def test_gibbs_returns_binary_states_without_gradient():
    rbm = RBM(6, 4)
    v = rbm.gibbs(torch.ones(3, 6), k=3)
    assert v.shape == (3, 6) and not v.requires_grad
    assert set(v.unique().tolist()) <= {0.0, 1.0}


def test_pcd_chains_persist_and_the_trainer_steps():
    torch.manual_seed(0)
    rbm = RBM(8, 4)
    opt = torch.optim.SGD(rbm.parameters(), lr=0.1)
    trainer = PCDTrainer(rbm, opt, device="cpu", n_chains=5, k=1, batch_size=4, progress=False)
    assert trainer.chains.shape == (5, 8)
    before, w_before = trainer.chains.clone(), rbm.W.detach().clone()
    trainer.fit(torch.bernoulli(torch.full((8, 8), 0.5)), until_epoch=1)
    assert trainer.chains.shape == (5, 8) and not torch.equal(trainer.chains, before)
    assert not torch.equal(rbm.W.detach(), w_before)
    assert "train_loss" in trainer.history[-1]
    with pytest.raises(ValueError, match="n_chains"):
        PCDTrainer(rbm, opt, device="cpu", n_chains=0)


def test_training_raises_the_exact_likelihood():
    g = torch.Generator().manual_seed(0)
    prototypes = torch.bernoulli(torch.full((2, 12), 0.5), generator=g)
    x = prototypes[torch.randint(0, 2, (200,), generator=g)]  # two noisy patterns
    x = (x + (torch.rand(x.shape, generator=g) < 0.05)).remainder(2)
    for persistent in (False, True):
        torch.manual_seed(0)
        rbm = RBM(12, 4).init_visible_bias(x)
        before = log_likelihood(rbm, x)
        train_rbm(rbm, x, steps=300, device="cpu", lr=1e-2, batch_size=20, persistent=persistent)
        assert log_likelihood(rbm, x) > before + 0.5, persistent


def test_init_visible_bias_gives_each_pixels_log_odds():
    x = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.0]])
    rbm = RBM(2, 3).init_visible_bias(x)
    assert torch.allclose(rbm.b, torch.tensor([math.log(3), -math.log(3)]), atol=1e-6)


def test_stack_and_unroll_shapes_and_tied_weights():
    torch.manual_seed(0)
    x = torch.bernoulli(torch.full((40, 10), 0.4))
    rbms = greedy_stack(x, [6, 3], steps=2, device="cpu", batch_size=20)
    assert [tuple(r.W.shape) for r in rbms] == [(10, 6), (6, 3)]
    ae = unroll(rbms)
    codes = ae.encode(x)
    with torch.no_grad():
        expected = rbms[1].p_h_given_v(rbms[0].p_h_given_v(x))
        assert torch.allclose(codes, expected, atol=1e-6)
        down = rbms[0].p_v_given_h(rbms[1].p_v_given_h(codes))
        assert torch.allclose(ae.decode(codes), down, atol=1e-6)
    assert ae(x).shape == (40, 10)
    # the unrolled copy is independent of the RBMs: fine-tuning does not change them
    with torch.no_grad():
        ae.encoder[0].weight.add_(1.0)
    assert not torch.allclose(ae.encoder[0].weight, rbms[0].W.T)


def test_rbm_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_hidden"):
        RBM(4, 0)
    with pytest.raises(ValueError, match="n_visible"):
        RBM(-1, 3)


def test_pcd_trainer_evaluates_without_moving_its_chains_or_weights():
    torch.manual_seed(0)
    rbm = RBM(8, 4)
    opt = torch.optim.SGD(rbm.parameters(), lr=0.1)
    trainer = PCDTrainer(rbm, opt, device="cpu", n_chains=5, k=1, batch_size=4, progress=False)
    x = torch.bernoulli(torch.full((8, 8), 0.5))
    chains, w = trainer.chains.clone(), rbm.W.detach().clone()
    result = trainer.evaluate(x)
    assert set(result) == {"loss", "recon"} and all(math.isfinite(v) for v in result.values())
    assert torch.equal(trainer.chains, chains) and torch.equal(rbm.W.detach(), w)
    expected = (rbm.free_energy(x).mean() - rbm.free_energy(chains).mean()).item()
    assert result["loss"] == pytest.approx(expected, abs=1e-5)  # batched means: rounding only
    history = trainer.fit(x, until_epoch=1, valid=x)
    assert {"valid_loss", "valid_recon"} <= set(history[-1])


def test_pcd_resume_restores_the_chains(tmp_path):
    x = torch.bernoulli(torch.full((12, 8), 0.5), generator=torch.Generator().manual_seed(0))

    def make(path=None):
        torch.manual_seed(0)
        rbm = RBM(8, 4)
        return PCDTrainer(rbm, torch.optim.SGD(rbm.parameters(), lr=0.1), device="cpu",
                          n_chains=4, batch_size=4, progress=False, checkpoint_path=path)

    straight = make()
    straight.fit(x, until_step=6)
    make(tmp_path / "rbm.pt").fit(x, until_step=3)
    resumed = make(tmp_path / "rbm.pt")
    resumed.fit(x, until_step=6)
    assert torch.equal(resumed.chains, straight.chains)
    assert resumed.history == straight.history
