"""course_utils.vqvae: nearest-code quantization against a brute-force search, the
straight-through gradient and the two losses' gradient paths, perplexity, dead-code
restarts and the Trainer hook that applies them (resumable), and the VQ-VAE's shapes and
loss."""

from __future__ import annotations

import math

import pytest
import torch

from course_utils.train import Trainer
from course_utils.vqvae import (VQVAE, CodeRestartTrainer, VectorQuantizer, code_counts,
                                perplexity, restart_dead_codes, vqvae_loss)


def test_each_vector_goes_to_its_nearest_code():
    torch.manual_seed(0)
    quantizer = VectorQuantizer(codes=7, dim=3)
    z_e = torch.randn(2, 3, 4, 5)
    z_q, indices, _ = quantizer(z_e)
    codes = quantizer.codebook.weight
    for b in range(2):
        for i in range(4):
            for j in range(5):
                distances = [(z_e[b, :, i, j] - c).norm().item() for c in codes]
                assert indices[b, i, j].item() == min(range(7), key=distances.__getitem__)
                assert torch.allclose(z_q[b, :, i, j], codes[indices[b, i, j]])


def test_gradients_take_the_straight_through_and_the_two_loss_paths():
    # the decoder's gradient reaches the encoder unchanged; the codebook loss moves only the
    # codes, the commitment loss (weight beta) only the encoder
    torch.manual_seed(0)
    quantizer = VectorQuantizer(codes=4, dim=2, beta=0.25)
    z_e = torch.randn(1, 2, 3, 3, requires_grad=True)
    z_q, indices, loss = quantizer(z_e)
    upstream = torch.randn_like(z_q)
    (grad_z,) = torch.autograd.grad((z_q * upstream).sum(), z_e, retain_graph=True)
    assert torch.allclose(grad_z, upstream)                    # straight through
    assert loss.shape == (1,)                                  # one per image
    grad_z, grad_codes = torch.autograd.grad(loss.sum(), [z_e, quantizer.codebook.weight])
    chosen = quantizer.lookup(indices).detach()
    assert torch.allclose(grad_z, 0.25 * 2 * (z_e - chosen), atol=1e-6)
    expected = torch.zeros(4, 2)
    for i, j in [(i, j) for i in range(3) for j in range(3)]:
        k = indices[0, i, j]
        expected[k] += 2 * (chosen[0, :, i, j] - z_e[0, :, i, j].detach())
    assert torch.allclose(grad_codes, expected, atol=1e-6)


def test_perplexity_counts_equally_used_codes():
    assert perplexity(torch.tensor([5, 5, 5, 5])) == pytest.approx(4.0)
    assert perplexity(torch.tensor([9, 0, 0])) == pytest.approx(1.0)
    p = torch.tensor([0.5, 0.25, 0.25])
    assert perplexity(p * 8) == pytest.approx(math.exp(-(p * p.log()).sum().item()))
    assert code_counts(torch.tensor([[0, 2], [2, 2]]), 4).tolist() == [1, 0, 3, 0]
    with pytest.raises(ValueError, match="counts"):
        perplexity(torch.zeros(3))


def test_dead_codes_move_onto_encoder_outputs_and_live_ones_stay():
    torch.manual_seed(0)
    quantizer = VectorQuantizer(codes=5, dim=2)
    before = quantizer.codebook.weight.detach().clone()
    z_e = torch.randn(2, 2, 3, 3) + 10                     # far from every code
    counts = torch.tensor([3, 0, 1, 0, 0])
    moved = restart_dead_codes(quantizer, z_e, counts, min_count=1,
                               generator=torch.Generator().manual_seed(0))
    after = quantizer.codebook.weight.detach()
    assert moved == 3
    assert torch.equal(after[[0, 2]], before[[0, 2]])
    outputs = z_e.permute(0, 2, 3, 1).reshape(-1, 2)
    for k in (1, 3, 4):
        assert (outputs - after[k]).norm(dim=1).min() < 1e-6
    _, indices, _ = quantizer(z_e)                           # the moved codes are now used
    assert set(indices.unique().tolist()) <= {1, 3, 4}


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="codes"):
        VectorQuantizer(codes=0, dim=2)
    with pytest.raises(ValueError, match="beta"):
        VectorQuantizer(codes=3, dim=2, beta=-1)
    with pytest.raises(ValueError, match="z_e"):
        VectorQuantizer(codes=3, dim=2)(torch.zeros(1, 3, 2, 2))


def test_the_vqvae_codes_a_digit_as_a_7x7_grid_of_indices():
    torch.manual_seed(0)
    x = (torch.rand(8, 784) < 0.2).float()
    model = VQVAE(codes=16, dim=8, channels=16)
    logits, indices, loss = model(x)
    assert logits.shape == (8, 784) and indices.shape == (8, 7, 7) and loss.shape == (8,)
    assert indices.min() >= 0 and indices.max() < 16
    assert torch.equal(model.encode(x), indices)
    assert torch.allclose(model.decode(indices), torch.sigmoid(logits), atol=1e-6)
    nll = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none")
    metrics = vqvae_loss(model, (x,))
    assert metrics["loss"].item() == pytest.approx((nll.sum(1) + loss).mean().item(), rel=1e-5)
    assert metrics["reconstruction"].item() == pytest.approx(nll.sum(1).mean().item(), rel=1e-5)
    assert metrics["perplexity"].item() == pytest.approx(
        perplexity(code_counts(indices, 16)), rel=1e-6)


def test_the_restart_hook_revives_codes_that_plain_training_leaves_dead(tmp_path):
    """Same start, same batches: the plain Trainer ends with a few codes in use; the
    CodeRestartTrainer moves the unused ones every 10 steps and ends using more, and a run
    resumed from its checkpoint ends where an uninterrupted one does."""
    patterns = (torch.rand(8, 784, generator=torch.Generator().manual_seed(0)) < 0.3).float()
    x = patterns[torch.arange(256) % 8]

    def run(trainer_class, steps, path=None, **options):
        torch.manual_seed(0)
        model = VQVAE(codes=16, dim=4, channels=8)
        trainer = trainer_class(model, torch.optim.Adam(model.parameters(), lr=2e-3),
                                vqvae_loss, device="cpu", batch_size=64, progress=False,
                                checkpoint_path=path, log_every=10, **options)
        trainer.fit(x, until_step=steps)
        return trainer, int((code_counts(model.encode(x), 16) > 0).sum())

    plain, used_plain = run(Trainer, 40)
    restarted, used_restarted = run(CodeRestartTrainer, 40, every=10)
    assert restarted.restarts > 0
    assert used_restarted > used_plain, (used_restarted, used_plain)
    run(CodeRestartTrainer, 20, tmp_path / "vq.pt", every=10)          # interrupted at 20
    resumed, _ = run(CodeRestartTrainer, 40, tmp_path / "vq.pt", every=10)
    for a, b in zip(resumed.model.parameters(), restarted.model.parameters()):
        assert torch.allclose(a, b, atol=1e-5)
    with pytest.raises(ValueError, match="every"):
        CodeRestartTrainer(VQVAE(codes=4), torch.optim.Adam(VQVAE(codes=4).parameters()),
                           vqvae_loss, device="cpu", every=0)
