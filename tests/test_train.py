"""course_utils.train: the Trainer's loop, evaluation, checkpoints, resumption and overriding."""

from pathlib import Path

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from course_utils.train import (CHECKSUM_TAG, Trainer, eval_mode, predict, read_checkpoint,
                                train_with_loss)

CPU = torch.device("cpu")
N, D = 50, 4  # 50 samples: batch sizes 16 and 7 leave a short last batch
BATCH = 16
STEPS = -(-N // BATCH)  # optimizer steps per epoch: 4


# ----- a tiny regression problem ------------------------------------------------------------
@pytest.fixture
def regression():
    """(x, y) for y = x @ w + b + noise, from a private generator (no global RNG use)."""
    g = torch.Generator().manual_seed(1234)
    x = torch.randn(N, D, generator=g)
    w = torch.randn(D, 1, generator=g)
    y = x @ w + 0.5 + 0.1 * torch.randn(N, 1, generator=g)
    return x, y


@pytest.fixture
def valid_set():
    g = torch.Generator().manual_seed(99)
    x = torch.randn(23, D, generator=g)
    return x, x.sum(dim=1, keepdim=True)


def mse(model, batch):
    x, y = batch
    return F.mse_loss(model(x), y)


def mse_and_mae(model, batch):
    x, y = batch
    pred = model(x)
    return {"loss": F.mse_loss(pred, y), "mae": (pred - y).abs().mean()}


def dropout_mlp(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(D, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 1))


def make_trainer(model_seed=0, trainer_cls=Trainer, **kwargs):
    """A fresh model, optimizer and trainer, built the same way every time."""
    model = dropout_mlp(model_seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    options = dict(device=CPU, batch_size=BATCH, progress=False)
    options.update(kwargs)
    return trainer_cls(model, optimizer, mse, **options)


def params(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def assert_same_params(a, b):
    assert len(a) == len(b)
    for p, q in zip(a, b):
        assert torch.equal(p, q)


def assert_same_optimizer_state(opt_a, opt_b):
    state_a, state_b = opt_a.state_dict()["state"], opt_b.state_dict()["state"]
    assert state_a.keys() == state_b.keys() and state_a
    for key in state_a:
        for name, value in state_a[key].items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(state_b[key][name])), name


# ----- training and history -----------------------------------------------------------------
def test_loss_decreases_on_linear_regression(regression):
    torch.manual_seed(0)
    model = nn.Linear(D, 1)
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), mse, device=CPU,
                      batch_size=BATCH, progress=False)
    history = trainer.fit(regression, until_epoch=8)
    losses = [record["train_loss"] for record in history]
    assert losses[-1] < 0.1 * losses[0]
    assert all(b < a for a, b in zip(losses, losses[1:]))
    final = trainer.evaluate(regression)["loss"]
    assert final < 0.1 * losses[0]


def test_history_has_one_record_per_epoch(regression, valid_set):
    trainer = make_trainer()
    history = trainer.fit(regression, until_epoch=3, valid=valid_set)
    assert history is trainer.history
    assert [record["epoch"] for record in history] == [1.0, 2.0, 3.0]
    assert [record["step"] for record in history] == [STEPS, 2 * STEPS, 3 * STEPS]
    assert trainer.step == 3 * STEPS
    for record in history:
        assert set(record) == {"step", "epoch", "train_loss", "valid_loss"}
        assert all(isinstance(v, float) for k, v in record.items() if k != "step")


def test_history_without_valid_has_only_train_entries(regression):
    history = make_trainer().fit(regression, until_epoch=2)
    assert [set(record) for record in history] == [{"step", "epoch", "train_loss"}] * 2


def test_valid_loss_is_the_evaluation_after_the_epoch(regression, valid_set):
    trainer = make_trainer()
    history = trainer.fit(regression, until_epoch=2, valid=valid_set)
    assert history[-1]["valid_loss"] == trainer.evaluate(valid_set)["loss"]


def test_fit_continues_to_a_larger_epoch_count(regression):
    trainer = make_trainer()
    trainer.fit(regression, until_epoch=2)
    trainer.fit(regression, until_epoch=3)
    assert [record["epoch"] for record in trainer.history] == [1, 2, 3]


@pytest.mark.parametrize("batch_size", [7, 16, 49, 64])
def test_evaluate_is_the_mean_over_all_the_data(regression, batch_size):
    model = dropout_mlp()
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), mse_and_mae, device=CPU,
                      batch_size=batch_size, progress=False)
    x, y = regression
    model.train()
    result = trainer.evaluate(regression)
    assert model.training  # evaluate restores the mode it found
    model.eval()
    with torch.no_grad():
        pred = model(x)
    torch.testing.assert_close(torch.tensor(result["loss"]), F.mse_loss(pred, y))
    torch.testing.assert_close(torch.tensor(result["mae"]), (pred - y).abs().mean())
    assert trainer.evaluate(regression) == result  # eval mode: dropout off, repeatable


def test_evaluate_leaves_an_eval_model_in_eval_mode(regression):
    trainer = make_trainer()
    trainer.model.eval()
    trainer.evaluate(regression)
    assert not trainer.model.training


def test_evaluate_does_not_change_parameters(regression):
    trainer = make_trainer()
    before = params(trainer.model)
    trainer.evaluate(regression)
    assert_same_params(before, params(trainer.model))


def test_train_loss_is_the_weighted_mean_of_batch_losses(regression):
    """With lr=0 nothing moves, so the epoch's train_loss equals the mean over all samples."""
    torch.manual_seed(0)
    model = nn.Linear(D, 1)
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.0), mse, device=CPU,
                      batch_size=BATCH, progress=False)
    history = trainer.fit(regression, until_epoch=1)
    x, y = regression
    with torch.no_grad():
        expected = F.mse_loss(model(x), y)
    torch.testing.assert_close(torch.tensor(history[0]["train_loss"]), expected)


def test_extra_metrics_from_a_dict_are_recorded(regression, valid_set):
    model = dropout_mlp()
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=1e-2), mse_and_mae, device=CPU,
                      batch_size=BATCH, progress=False)
    history = trainer.fit(regression, until_epoch=2, valid=valid_set)
    assert set(history[0]) == {"step", "epoch", "train_loss", "train_mae", "valid_loss", "valid_mae"}
    assert set(trainer.evaluate(valid_set)) == {"loss", "mae"}


def test_a_dict_without_loss_is_an_error(regression):
    model = nn.Linear(D, 1)

    def no_loss(model, batch):
        x, y = batch
        return {"mse": F.mse_loss(model(x), y)}

    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), no_loss, device=CPU,
                      progress=False)
    with pytest.raises(ValueError, match="'loss'"):
        trainer.fit(regression, until_epoch=1)
    with pytest.raises(ValueError, match="'loss'"):
        trainer.evaluate(regression)


def test_no_loss_fn_and_no_override_is_an_error(regression):
    model = nn.Linear(D, 1)
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), device=CPU, progress=False)
    with pytest.raises(NotImplementedError, match="loss_fn"):
        trainer.fit(regression, until_epoch=1)


def test_a_single_tensor_is_a_batch_of_one_tensor():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(30, D, generator=g)
    model = nn.Linear(D, D)
    seen = []

    def reconstruction(model, batch):
        seen.append(len(batch))
        (xb,) = batch
        return F.mse_loss(model(xb), xb)

    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), reconstruction, device=CPU,
                      batch_size=8, progress=False)
    trainer.fit(x, until_epoch=1)
    assert seen == [1, 1, 1, 1]  # 30 samples in batches of 8: 4 batches, each a 1-tuple


def test_every_sample_is_seen_once_per_epoch():
    x = torch.arange(N, dtype=torch.float32).unsqueeze(1)
    model = nn.Linear(1, 1)
    seen = []

    def record(model, batch):
        seen.append(batch[0].squeeze(1).clone())
        return model(batch[0]).pow(2).mean()

    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.0), record, device=CPU,
                      batch_size=BATCH, progress=False)
    trainer.fit(x, until_epoch=2)
    batches_per_epoch = -(-N // BATCH)
    assert [len(b) for b in seen[:batches_per_epoch]] == [16, 16, 16, 2]
    epoch1 = torch.cat(seen[:batches_per_epoch])
    epoch2 = torch.cat(seen[batches_per_epoch:])
    assert torch.equal(epoch1.sort().values, x.squeeze(1))
    assert torch.equal(epoch2.sort().values, x.squeeze(1))
    assert not torch.equal(epoch1, epoch2)  # reshuffled each epoch


# ----- checkpoints and resumption -----------------------------------------------------------
def test_resume_reproduces_an_uninterrupted_run_exactly(regression, valid_set, tmp_path):
    straight = make_trainer()
    straight.fit(regression, until_epoch=4, valid=valid_set)

    ckpt = tmp_path / "run" / "ckpt.pt"
    first = make_trainer(checkpoint_path=ckpt)
    first.fit(regression, until_epoch=2, valid=valid_set)
    assert ckpt.exists()
    second = make_trainer(checkpoint_path=ckpt)  # brand-new model and optimizer, same seed
    torch.manual_seed(12345)  # disturb the global RNG: the checkpoint must restore it
    history = second.fit(regression, until_epoch=4, valid=valid_set)

    assert history == straight.history
    assert second.step == 4 * STEPS
    assert_same_params(params(second.model), params(straight.model))
    assert_same_optimizer_state(second.optimizer, straight.optimizer)


def test_resuming_without_the_saved_random_state_would_differ(regression, tmp_path):
    """Guard for the test above: dropout makes the saved RNG state matter."""
    straight = make_trainer()
    straight.fit(regression, until_epoch=4)
    ckpt = tmp_path / "ckpt.pt"
    make_trainer(checkpoint_path=ckpt).fit(regression, until_epoch=2)

    second = make_trainer(checkpoint_path=ckpt)
    second.load_checkpoint(ckpt)
    torch.manual_seed(12345)  # now the disturbance comes after the restore
    second.fit(regression, until_epoch=4, resume=False)
    assert second.history[:2] == straight.history[:2]
    assert second.history[2:] != straight.history[2:]


def test_resume_false_starts_from_scratch(regression, tmp_path):
    ckpt = tmp_path / "ckpt.pt"
    make_trainer(checkpoint_path=ckpt).fit(regression, until_epoch=2)
    fresh = make_trainer(checkpoint_path=ckpt)
    initial = params(fresh.model)
    fresh.fit(regression, until_epoch=1, resume=False)
    assert [r["epoch"] for r in fresh.history] == [1]
    assert read_checkpoint(ckpt)["step"] == STEPS  # overwritten by the new run
    assert not all(torch.equal(p, q) for p, q in zip(initial, fresh.model.parameters()))


class InterruptingTrainer(Trainer):
    """Raises KeyboardInterrupt instead of taking optimizer step ``at_step`` (1-based), like Ctrl-C."""

    def __init__(self, *args, at_step: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.at_step = at_step

    def train_step(self, batch):
        if self.step + 1 == self.at_step:
            raise KeyboardInterrupt
        return super().train_step(batch)


@pytest.mark.parametrize("log_every", [1, 3, STEPS])
@pytest.mark.parametrize("at_step", [2, 6, 9, 15])
def test_an_interrupted_run_loses_at_most_one_interval_and_resumes_bit_identically(
        regression, valid_set, tmp_path, log_every, at_step):
    """Interrupted anywhere, mid-epoch included, a run keeps all but the steps since its last
    record, and resuming gives the uninterrupted run's history, weights and optimizer state."""
    straight = make_trainer(log_every=log_every)
    straight.fit(regression, until_step=4 * STEPS, valid=valid_set)

    ckpt = tmp_path / "ckpt.pt"
    interrupted = make_trainer(trainer_cls=InterruptingTrainer, at_step=at_step, checkpoint_path=ckpt,
                               log_every=log_every)
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(regression, until_step=4 * STEPS, valid=valid_set)
    done = at_step - 1
    saved = read_checkpoint(ckpt)["step"] if ckpt.exists() else 0
    assert saved % log_every == 0 and done - saved < log_every
    assert not list(tmp_path.glob("*.tmp"))

    resumed = make_trainer(checkpoint_path=ckpt, log_every=log_every)
    resumed.fit(regression, until_step=4 * STEPS, valid=valid_set)
    assert resumed.history == straight.history
    assert_same_params(params(resumed.model), params(straight.model))
    assert_same_optimizer_state(resumed.optimizer, straight.optimizer)


def test_a_step_budget_stops_mid_epoch_and_records_there(regression):
    trainer = make_trainer()
    history = trainer.fit(regression, until_step=6)
    assert trainer.step == 6
    assert [(r["step"], r["epoch"]) for r in history] == [(4, 1.0), (6, 1.5)]


def test_a_step_budget_goes_on_where_it_stopped(regression):
    """fit(until_step=6) then fit(until_step=12) takes the same steps as fit(until_step=12)."""
    straight = make_trainer(log_every=2)
    straight.fit(regression, until_step=12)
    twice = make_trainer(log_every=2)
    twice.fit(regression, until_step=6)
    twice.fit(regression, until_step=12)
    assert twice.history == straight.history
    assert_same_params(params(twice.model), params(straight.model))


def test_the_last_step_is_always_checkpointed(regression, tmp_path):
    ckpt = tmp_path / "ckpt.pt"
    trainer = make_trainer(checkpoint_path=ckpt, log_every=5)
    trainer.fit(regression, until_step=7)
    state = read_checkpoint(ckpt)
    assert state["step"] == 7
    assert [r["step"] for r in state["history"]] == [5, 7]
    for name, value in trainer.model.state_dict().items():
        assert torch.equal(state["model"][name], value)


def test_checkpoint_writes_leave_no_temporary_file(regression, tmp_path):
    ckpt = tmp_path / "ckpt.pt"
    make_trainer(checkpoint_path=ckpt).fit(regression, until_epoch=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]


@pytest.mark.parametrize("where", ["torch.save", "os.replace"])
def test_a_failed_save_keeps_the_previous_checkpoint(regression, tmp_path, monkeypatch, where):
    ckpt = tmp_path / "ckpt.pt"
    trainer = make_trainer(checkpoint_path=ckpt)
    trainer.fit(regression, until_epoch=1)
    good = ckpt.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(torch, "save", crash) if where == "torch.save" else patch.setattr(
            "course_utils.train.os.replace", crash)
        with pytest.raises(KeyboardInterrupt):
            trainer.fit(regression, until_epoch=2)
    assert ckpt.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]  # no stray .tmp either
    assert read_checkpoint(ckpt)["step"] == STEPS


def damage_truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def damage_flip_a_byte(data: bytes) -> bytes:
    i = len(data) // 3
    return data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]


@pytest.mark.parametrize("damage", [damage_truncate, damage_flip_a_byte, lambda data: b"",
                                    lambda data: b"garbage, not a checkpoint" * 10],
                         ids=["truncated", "one-flipped-byte", "empty", "garbage"])
def test_a_damaged_checkpoint_is_refused_with_its_path_and_the_way_out(regression, tmp_path, damage):
    ckpt = tmp_path / "ckpt.pt"
    make_trainer(checkpoint_path=ckpt).fit(regression, until_epoch=1)
    ckpt.write_bytes(damage(ckpt.read_bytes()))
    with pytest.raises(ValueError, match="damaged") as error:
        make_trainer(checkpoint_path=ckpt).fit(regression, until_epoch=2)
    assert str(ckpt) in str(error.value) and "resume=False" in str(error.value)
    fresh = make_trainer(checkpoint_path=ckpt)  # the way out works
    fresh.fit(regression, until_epoch=1, resume=False)
    assert read_checkpoint(ckpt)["step"] == STEPS


def test_a_checkpoint_ends_with_the_sha256_of_its_contents(regression, tmp_path):
    import hashlib

    ckpt = tmp_path / "ckpt.pt"
    make_trainer(checkpoint_path=ckpt).fit(regression, until_epoch=1)
    payload, tag, digest = ckpt.read_bytes().rpartition(CHECKSUM_TAG)
    assert tag and digest.decode() == hashlib.sha256(payload).hexdigest()


def test_a_checkpoint_of_another_model_names_the_file(regression, tmp_path):
    ckpt = tmp_path / "ckpt.pt"
    make_trainer(checkpoint_path=ckpt).fit(regression, until_epoch=1)
    model = nn.Linear(D, 1)  # other parameters than dropout_mlp's
    other = Trainer(model, torch.optim.Adam(model.parameters()), mse, device=CPU, progress=False,
                    checkpoint_path=ckpt)
    with pytest.raises(ValueError, match="does not fit this trainer") as error:
        other.fit(regression, until_epoch=2)
    assert str(ckpt) in str(error.value)


def test_fit_to_the_checkpoint_step_does_no_training(regression, tmp_path):
    ckpt = tmp_path / "ckpt.pt"
    done = make_trainer(checkpoint_path=ckpt)
    done.fit(regression, until_epoch=2)

    class CountingTrainer(Trainer):
        steps = 0

        def train_step(self, batch):
            CountingTrainer.steps += 1
            return super().train_step(batch)

    again = make_trainer(model_seed=1, trainer_cls=CountingTrainer, checkpoint_path=ckpt)
    history = again.fit(regression, until_epoch=2)
    assert CountingTrainer.steps == 0
    assert history == done.history
    assert_same_params(params(again.model), params(done.model))
    mtime = ckpt.stat().st_mtime_ns
    again.fit(regression, until_epoch=2)
    assert ckpt.stat().st_mtime_ns == mtime  # nothing trained, nothing rewritten
    assert_same_params(params(again.model), params(done.model))


def test_asking_for_fewer_steps_than_the_checkpoint_says_so(regression, tmp_path, capsys):
    ckpt = tmp_path / "ckpt.pt"
    make_trainer(checkpoint_path=ckpt).fit(regression, until_epoch=3)
    capsys.readouterr()
    history = make_trainer(checkpoint_path=ckpt).fit(regression, until_epoch=1)
    assert len(history) == 3
    assert f"{3 * STEPS} steps already, more than {STEPS}" in capsys.readouterr().out


def test_load_checkpoint_of_a_missing_file_names_it(tmp_path):
    trainer = make_trainer()
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        trainer.load_checkpoint(tmp_path / "nope.pt")


def test_loading_a_checkpoint_with_other_optimizer_names_fails_cleanly(regression, tmp_path):
    ckpt = tmp_path / "ckpt.pt"
    make_trainer(checkpoint_path=ckpt).fit(regression, until_epoch=1)  # optimizer saved as "main"

    model = dropout_mlp(seed=5)
    other = Trainer(model, {"adam": torch.optim.Adam(model.parameters(), lr=1e-2)}, mse, device=CPU,
                    progress=False)
    before = params(other.model)
    with pytest.raises(ValueError, match="optimizers"):
        other.load_checkpoint(ckpt)
    assert other.step == 0 and other.history == []
    assert_same_params(before, params(other.model))  # a refused checkpoint changes nothing


# ----- non-finite losses ----------------------------------------------------------------------
def test_a_nan_loss_stops_training_naming_its_step(regression):
    def nan_from_step_6(model, batch, calls=[0]):  # noqa: B006 - a call counter
        calls[0] += 1
        loss = mse(model, batch)
        return loss * float("nan") if calls[0] >= 6 else loss

    model, opt = dropout_mlp(), None
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.01), nan_from_step_6,
                      device=CPU, batch_size=BATCH, progress=False)
    with pytest.raises(FloatingPointError, match="step 6: loss = nan"):
        trainer.fit(regression, until_epoch=3)
    assert [r["step"] for r in trainer.history] == [STEPS]  # the first epoch was fine


# ----- eval mode and batched prediction --------------------------------------------------------
def test_eval_mode_switches_and_restores_the_mode():
    model = dropout_mlp()
    for mode in (True, False):
        model.train(mode)
        with eval_mode(model):
            assert not model.training
        assert model.training == mode
    model.train()
    with pytest.raises(RuntimeError), eval_mode(model):
        raise RuntimeError
    assert model.training


@pytest.mark.parametrize("batch_size", [1, 7, 1000])
def test_predict_is_the_model_in_eval_mode_in_batches_without_gradients(regression, batch_size):
    model = dropout_mlp().train()
    x, _ = regression
    got = predict(model, x, CPU, batch_size=batch_size)
    with eval_mode(model), torch.no_grad():
        expected = model(x)
    torch.testing.assert_close(got, expected)  # batch size changes only rounding
    assert not got.requires_grad
    assert model.training  # restored


def test_predict_takes_a_method_of_a_module():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(D, 3), nn.Dropout(0.5))
    model.encode = model[0].forward  # a bound method of a module inside
    x = torch.randn(10, D)
    assert torch.equal(predict(model[0].forward, x, CPU), model[0](x).detach())
    with pytest.raises(TypeError, match="fn"):
        predict(lambda t: t, x, CPU)


# ----- a subclass with two optimizers (a toy GAN) -------------------------------------------
class ToyGan(Trainer):
    """Generator z (2-D) -> x (1-D); discriminator x -> logit. One step updates both."""

    def train_step(self, batch):
        (real,) = batch
        gen, disc = self.model["gen"], self.model["disc"]
        z = torch.randn(len(real), 2)
        fake = gen(z)
        ones, zeros = torch.ones(len(real), 1), torch.zeros(len(real), 1)
        disc_loss = (F.binary_cross_entropy_with_logits(disc(real), ones)
                     + F.binary_cross_entropy_with_logits(disc(fake.detach()), zeros))
        self.optimize(disc_loss, self.optimizers["disc"])
        gen_loss = F.binary_cross_entropy_with_logits(disc(fake), ones)
        self.optimize(gen_loss, self.optimizers["gen"])
        return {"gen_loss": gen_loss, "disc_loss": disc_loss}


def make_gan(**kwargs) -> ToyGan:
    torch.manual_seed(3)
    model = nn.ModuleDict({
        "gen": nn.Linear(2, 1),
        "disc": nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Dropout(0.2), nn.Linear(8, 1)),
    })
    optimizers = {
        "gen": torch.optim.Adam(model["gen"].parameters(), lr=1e-2),
        "disc": torch.optim.Adam(model["disc"].parameters(), lr=1e-2),
    }
    return ToyGan(model, optimizers, device=CPU, batch_size=BATCH, progress=False, **kwargs)


@pytest.fixture
def real_samples():
    g = torch.Generator().manual_seed(5)
    return 3.0 + torch.randn(N, 1, generator=g)


def test_gan_subclass_trains_both_parts_and_records_both_losses(real_samples):
    gan = make_gan()
    gen_before, disc_before = params(gan.model["gen"]), params(gan.model["disc"])
    history = gan.fit(real_samples, until_epoch=2)
    assert [set(r) for r in history] == [{"step", "epoch", "train_gen_loss", "train_disc_loss"}] * 2
    assert all(r["train_gen_loss"] > 0 and r["train_disc_loss"] > 0 for r in history)
    for before, module in ((gen_before, gan.model["gen"]), (disc_before, gan.model["disc"])):
        assert all(not torch.equal(p, q) for p, q in zip(before, module.parameters()))
    for opt in gan.optimizers.values():
        assert opt.state  # each optimizer took steps


def test_gan_subclass_checkpoints_and_resumes_both_optimizers(real_samples, tmp_path):
    straight = make_gan()
    straight.fit(real_samples, until_epoch=4)

    ckpt = tmp_path / "gan.pt"
    make_gan(checkpoint_path=ckpt).fit(real_samples, until_epoch=2)
    state = read_checkpoint(ckpt)
    assert set(state["optimizers"]) == {"gen", "disc"}
    resumed = make_gan(checkpoint_path=ckpt)
    resumed.fit(real_samples, until_epoch=4)

    assert resumed.history == straight.history
    assert_same_params(params(resumed.model), params(straight.model))
    for name in ("gen", "disc"):
        assert_same_optimizer_state(resumed.optimizers[name], straight.optimizers[name])


def test_optimizer_property_refuses_to_guess_between_several(real_samples):
    gan = make_gan()
    with pytest.raises(AttributeError, match="gen"):
        gan.optimizer  # noqa: B018 - the access is the test


def test_optimizer_property_returns_the_only_optimizer():
    model = nn.Linear(D, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    assert Trainer(model, opt, mse, device=CPU).optimizer is opt


# ----- argument checking --------------------------------------------------------------------
def _linear_and_opt():
    model = nn.Linear(D, 1)
    return model, torch.optim.SGD(model.parameters(), lr=0.1)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": -3}, "batch_size"),
        ({"batch_size": 2.0}, "batch_size"),
        ({"batch_size": True}, "batch_size"),
        ({"log_every": 0}, "log_every"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_numbers_are_rejected_by_name(kwargs, name):
    model, opt = _linear_and_opt()
    with pytest.raises(ValueError, match=name):
        Trainer(model, opt, mse, device=CPU, **kwargs)


def test_model_must_be_a_module():
    _, opt = _linear_and_opt()
    with pytest.raises(TypeError, match="model"):
        Trainer(lambda x: x, opt, mse, device=CPU)


@pytest.mark.parametrize("optimizer", ["adam", None, {"gen": "adam"}])
def test_optimizer_must_be_an_optimizer(optimizer):
    model, _ = _linear_and_opt()
    with pytest.raises(TypeError, match="optimizer"):
        Trainer(model, optimizer, mse, device=CPU)


def test_loss_fn_must_be_callable():
    model, opt = _linear_and_opt()
    with pytest.raises(TypeError, match="loss_fn"):
        Trainer(model, opt, "mse", device=CPU)


@pytest.mark.parametrize("budget", ["until_step", "until_epoch"])
@pytest.mark.parametrize("value", [-1, 1.5, "3", True])
def test_bad_budgets_are_rejected_by_name(regression, budget, value):
    model, opt = _linear_and_opt()
    with pytest.raises(ValueError, match=budget):
        Trainer(model, opt, mse, device=CPU, progress=False).fit(regression, **{budget: value})


@pytest.mark.parametrize("budgets", [{}, {"until_step": 3, "until_epoch": 1}])
def test_fit_takes_exactly_one_budget(regression, budgets):
    model, opt = _linear_and_opt()
    with pytest.raises(TypeError, match="until_step=... or until_epoch=..."):
        Trainer(model, opt, mse, device=CPU, progress=False).fit(regression, **budgets)


def test_a_loss_fn_returning_a_float_is_refused_by_name(regression):
    model, opt = _linear_and_opt()
    trainer = Trainer(model, opt, lambda m, b: 0.5, device=CPU, progress=False)
    with pytest.raises(TypeError, match="loss=0.5"):
        trainer.fit(regression, until_step=1)


def test_zero_epochs_trains_nothing(regression):
    model, opt = _linear_and_opt()
    before = params(model)
    assert Trainer(model, opt, mse, device=CPU, progress=False).fit(regression, until_epoch=0) == []
    assert_same_params(before, params(model))


def test_train_tensors_of_different_lengths_are_rejected(regression):
    x, y = regression
    model, opt = _linear_and_opt()
    trainer = Trainer(model, opt, mse, device=CPU, progress=False)
    with pytest.raises(ValueError, match="train"):
        trainer.fit((x, y[:-1]), until_epoch=1)
    with pytest.raises(ValueError, match="valid"):
        trainer.fit((x, y), until_epoch=1, valid=(x[:3], y[:4]))
    with pytest.raises(ValueError, match="train"):
        trainer.fit((x[:0], y[:0]), until_epoch=1)


@pytest.mark.parametrize("train", [[[1.0, 2.0]], "data", (), None])
def test_train_must_be_tensors(train):
    model, opt = _linear_and_opt()
    trainer = Trainer(model, opt, mse, device=CPU, progress=False)
    with pytest.raises(TypeError, match="train"):
        trainer.fit(train, until_epoch=1)


def test_evaluate_checks_its_data_too():
    model, opt = _linear_and_opt()
    trainer = Trainer(model, opt, mse, device=CPU, progress=False)
    with pytest.raises(TypeError, match="data"):
        trainer.evaluate([1.0, 2.0])


# ----- learning-rate schedules ---------------------------------------------------------------
def make_scheduled_trainer(**kwargs):
    model = dropout_mlp(0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    trainer = Trainer(model, optimizer, mse, device=CPU, batch_size=BATCH, progress=False,
                      scheduler=scheduler, **kwargs)
    return trainer, optimizer


def test_the_scheduler_steps_once_per_batch(regression):
    trainer, optimizer = make_scheduled_trainer()
    trainer.fit(regression, until_epoch=1)
    batches = -(-len(regression[0]) // BATCH)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** (batches // 3))


def test_the_scheduler_steps_for_a_subclass_with_its_own_step(regression):
    class OwnStep(Trainer):  # like the GAN, RBM and Gamma-model trainers
        def train_step(self, batch):
            loss = mse(self.model, batch)
            self.optimize(loss, self.optimizer)
            return {"loss": loss}

    model = dropout_mlp(0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    OwnStep(model, optimizer, device=CPU, batch_size=BATCH, progress=False,
            scheduler=scheduler).fit(regression, until_epoch=1)
    batches = -(-len(regression[0]) // BATCH)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** (batches // 3))


def test_a_resumed_run_continues_the_schedule(regression, tmp_path):
    straight, straight_opt = make_scheduled_trainer()
    straight.fit(regression, until_epoch=3)
    first, _ = make_scheduled_trainer(checkpoint_path=tmp_path / "ckpt.pt")
    first.fit(regression, until_epoch=1)
    resumed, resumed_opt = make_scheduled_trainer(checkpoint_path=tmp_path / "ckpt.pt")
    resumed.fit(regression, until_epoch=3)
    assert resumed_opt.param_groups[0]["lr"] == straight_opt.param_groups[0]["lr"]
    assert_same_params(params(resumed.model), params(straight.model))


def test_scheduler_must_be_a_scheduler():
    model = dropout_mlp(0)
    with pytest.raises(TypeError, match="scheduler"):
        Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), mse, device=CPU, scheduler=0.5)


def test_a_device_name_that_is_not_a_device_is_refused_by_name():
    model, opt = _linear_and_opt()
    with pytest.raises(ValueError, match="device='gpu'"):
        Trainer(model, opt, mse, device="gpu")


# ----- progress ------------------------------------------------------------------------------
def test_the_progress_bar_counts_steps_within_an_epoch(regression, monkeypatch):
    """One long epoch still moves the bar: it advances once per optimizer step."""
    import course_utils.train as train_module

    bars = []

    class RecordingBar:
        def __init__(self, total, initial, desc, disable, **options):
            self.total, self.n, self.desc, self.disable = total, initial, desc, disable
            self.seen = []
            bars.append(self)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n=1):
            self.n += n
            self.seen.append(self.n)

        def set_postfix(self, postfix):
            pass

    monkeypatch.setattr(train_module, "tqdm", RecordingBar)
    trainer = make_trainer(progress=True)
    trainer.fit(regression, until_epoch=1)
    (bar,) = bars
    assert bar.desc == "steps" and bar.total == STEPS and not bar.disable
    assert bar.seen == list(range(1, STEPS + 1))  # within the one epoch, step by step


# ----- train_with_loss: Adam, a one-cycle schedule, and checkpoints ---------------------------
def test_train_with_loss_interrupted_resumes_to_the_same_model(regression, tmp_path):
    """A run cut at step 6 of 10 and started again from its checkpoint (saved every 3 steps)
    ends with the same weights as a straight run: the schedule and RNG state come back too."""
    straight = train_with_loss(dropout_mlp(), regression, mse, steps=10, device=CPU,
                               batch_size=BATCH)
    ckpt = tmp_path / "run.pt"

    class Stop(Exception):
        pass

    def stopping_mse(model, batch, calls=[0]):
        calls[0] += 1
        if calls[0] == 7:
            raise Stop
        return mse(model, batch)

    with pytest.raises(Stop):
        train_with_loss(dropout_mlp(), regression, stopping_mse, steps=10, device=CPU,
                        batch_size=BATCH, checkpoint_path=ckpt, log_every=3)
    assert read_checkpoint(ckpt)["step"] == 6
    resumed = train_with_loss(dropout_mlp(), regression, mse, steps=10, device=CPU,
                              batch_size=BATCH, checkpoint_path=ckpt, log_every=3)
    assert resumed.step == 10
    assert_same_params(params(resumed.model), params(straight.model))
    assert resumed.scheduler.last_epoch == straight.scheduler.last_epoch == 10


def test_train_with_loss_names_a_checkpoint_of_another_budget(regression, tmp_path):
    """A one-cycle schedule has its length in the checkpoint: resuming a 6-step run with
    steps=10 is refused with an error naming the file and both budgets (torch's own error
    would come mid-run, from the scheduler); the same budget resumes."""
    ckpt = tmp_path / "run.pt"
    train_with_loss(dropout_mlp(), regression, mse, steps=6, device=CPU, batch_size=BATCH,
                    checkpoint_path=ckpt, log_every=3)
    with pytest.raises(ValueError, match=r"run\.pt.*steps=6.*steps=10"):
        train_with_loss(dropout_mlp(), regression, mse, steps=10, device=CPU,
                        batch_size=BATCH, checkpoint_path=ckpt, log_every=3)
    again = train_with_loss(dropout_mlp(), regression, mse, steps=6, device=CPU,
                            batch_size=BATCH, checkpoint_path=ckpt, log_every=3)
    assert again.step == 6
