"""course_utils.device: device choice, seeding and the mixed-precision helpers (no GPU needed)."""

import random
from contextlib import nullcontext

import numpy as np
import pytest
import torch

from course_utils import device as device_module
from course_utils.device import amp_dtype, autocast, grad_scaler, pick_device, seed_everything


@pytest.fixture
def availability(monkeypatch):
    """Set which accelerators torch appears to have: availability(cuda=..., mps=...)."""

    def set_available(*, cuda: bool, mps: bool):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
        monkeypatch.setattr(device_module, "_mps_available", lambda: mps)

    return set_available


# ----- pick_device --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cuda", "mps", "expected"),
    [(True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu")],
)
def test_pick_device_prefers_cuda_then_mps_then_cpu(availability, cuda, mps, expected):
    availability(cuda=cuda, mps=mps)
    assert pick_device() == torch.device(expected)


def test_pick_device_prefer_overrides_the_automatic_choice(availability):
    availability(cuda=True, mps=True)
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("mps") == torch.device("mps")
    assert pick_device("cuda:1") == torch.device("cuda", 1)


def test_pick_device_reads_course_device(availability, monkeypatch):
    availability(cuda=True, mps=False)
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert pick_device() == torch.device("cpu")


def test_pick_device_argument_wins_over_course_device(availability, monkeypatch):
    availability(cuda=False, mps=True)
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert pick_device("mps") == torch.device("mps")


def test_pick_device_empty_course_device_means_automatic(availability, monkeypatch):
    availability(cuda=False, mps=True)
    monkeypatch.setenv("COURSE_DEVICE", "")
    assert pick_device() == torch.device("mps")


@pytest.mark.parametrize("kind", ["cuda", "cuda:0", "mps"])
def test_pick_device_missing_preferred_device_is_an_error_not_a_fallback(availability, kind):
    availability(cuda=False, mps=False)
    with pytest.raises(RuntimeError, match=kind.split(":")[0]):
        pick_device(kind)


def test_pick_device_missing_device_from_environment_names_the_variable(availability, monkeypatch):
    availability(cuda=False, mps=False)
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="COURSE_DEVICE"):
        pick_device()


def test_pick_device_unknown_type_names_the_argument(availability):
    availability(cuda=False, mps=False)
    with pytest.raises(ValueError, match="prefer='tpu'"):
        pick_device("tpu")


def test_pick_device_unknown_type_from_environment_names_the_variable(availability, monkeypatch):
    availability(cuda=False, mps=False)
    monkeypatch.setenv("COURSE_DEVICE", "tpu")
    with pytest.raises(ValueError, match=r"\$COURSE_DEVICE='tpu'"):
        pick_device()


# ----- seed_everything ----------------------------------------------------------------------
def _draws():
    return random.random(), np.random.rand(4), torch.rand(4)


def test_seed_everything_repeats_python_numpy_and_torch_draws():
    seed_everything(123)
    first = _draws()
    seed_everything(123)
    second = _draws()
    assert first[0] == second[0]
    np.testing.assert_array_equal(first[1], second[1])
    assert torch.equal(first[2], second[2])


def test_seed_everything_different_seeds_give_different_draws():
    seed_everything(1)
    first = _draws()
    seed_everything(2)
    second = _draws()
    assert first[0] != second[0]
    assert not np.array_equal(first[1], second[1])
    assert not torch.equal(first[2], second[2])


@pytest.mark.parametrize("seed", [-1, 1.5, True, "3", None])
def test_seed_everything_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match="seed"):
        seed_everything(seed)


def test_seed_everything_accepts_zero():
    seed_everything(0)
    a = torch.rand(2)
    seed_everything(0)
    assert torch.equal(a, torch.rand(2))


# ----- mixed precision ----------------------------------------------------------------------
def test_autocast_on_cpu_keeps_float32():
    cpu = torch.device("cpu")
    a, b = torch.randn(8, 8), torch.randn(8, 8)
    with autocast(cpu):
        out = a @ b
    assert out.dtype == torch.float32
    # torch's own CPU autocast would have changed it: the no-op is ours, not torch's default
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert (a @ b).dtype == torch.bfloat16


@pytest.mark.parametrize("kind", ["cpu", "mps"])
def test_amp_dtype_is_none_off_cuda(kind):
    assert amp_dtype(torch.device(kind)) is None


@pytest.mark.parametrize(("bf16", "expected"), [(True, torch.bfloat16), (False, torch.float16)])
def test_amp_dtype_on_cuda_depends_on_bf16_support(monkeypatch, bf16, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: bf16)
    assert amp_dtype(torch.device("cuda")) == expected


def test_autocast_disabled_on_cuda_is_a_no_op(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    assert isinstance(autocast(torch.device("cuda"), enabled=False), nullcontext)


def test_grad_scaler_is_disabled_on_cpu():
    assert not grad_scaler(torch.device("cpu")).is_enabled()
    assert not grad_scaler(torch.device("cpu"), enabled=True).is_enabled()


def test_grad_scaler_is_disabled_with_bfloat16(monkeypatch):
    # bfloat16 has float32's range, so no loss scaling: the scaler must stay off
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    assert not grad_scaler(torch.device("cuda")).is_enabled()


def test_seed_everything_accepts_numpy_integers():
    seed_everything(np.int64(3))
    first = torch.rand(3)
    seed_everything(3)
    assert torch.equal(first, torch.rand(3))


# ----- as_device ----------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "expected"), [
    ("cpu", torch.device("cpu")), ("cuda", torch.device("cuda")), ("cuda:1", torch.device("cuda", 1)),
    ("mps", torch.device("mps")), (torch.device("cpu"), torch.device("cpu")),
])
def test_as_device_takes_known_names_and_devices(value, expected):
    assert device_module.as_device("device", value) == expected


@pytest.mark.parametrize("value", ["gpu", "GPU", "tpu", "", "cuda:x", "cuda:-1"])
def test_as_device_names_the_argument_and_what_it_accepts(value):
    with pytest.raises(ValueError, match=rf"device={value!r}: expected one of cuda, mps, cpu .* "
                                         r"or a torch.device"):
        device_module.as_device("device", value)


@pytest.mark.parametrize("value", [0, None, 1.5])
def test_as_device_refuses_other_types_naming_the_argument(value):
    with pytest.raises(TypeError, match=rf"device={value!r}: expected one of cuda, mps, cpu"):
        device_module.as_device("device", value)


def test_pick_device_gpu_is_refused_listing_what_is_accepted(availability):
    availability(cuda=True, mps=False)
    with pytest.raises(ValueError, match=r"prefer='gpu': expected one of cuda, mps, cpu"):
        pick_device("gpu")


def test_pick_device_takes_a_torch_device(availability):
    availability(cuda=False, mps=False)
    assert pick_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        pick_device(torch.device("cuda"))


# ----- seeded: repeatable draws inside a block, the caller's stream left alone ------------------
def test_seeded_repeats_its_draws_and_restores_the_global_stream():
    from course_utils.device import seeded

    torch.manual_seed(123)
    state = torch.get_rng_state()
    with seeded(7):
        first = torch.rand(3)
    assert torch.equal(torch.get_rng_state(), state)
    with seeded(7):
        assert torch.equal(torch.rand(3), first)
    with pytest.raises(ValueError, match="seed=-1"):
        with seeded(-1):
            pass


def _tiny_runs():
    from course_utils.conditional_gan import train_conditional_gan
    from course_utils.contrastive import simclr_pretrain
    from course_utils.sample_quality import train_digit_classifier
    from course_utils.semisupervised import train_gamma

    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(16, 784, generator=g), torch.arange(16) % 10
    cpu = torch.device("cpu")
    return {
        "train_conditional_gan": lambda seed: train_conditional_gan(
            x, y, device=cpu, steps=2, seed=seed, batch_size=8)[0].state_dict(),
        "simclr_pretrain": lambda seed: simclr_pretrain(
            x, steps=1, device=cpu, seed=seed, batch_size=8)[0].state_dict(),
        "train_digit_classifier": lambda seed: train_digit_classifier(
            x, y, device=cpu, steps=1, batch_size=8, seed=seed).state_dict(),
        "train_gamma": lambda seed: train_gamma(
            x[:10], y[:10], x, lam=1.0, steps=1, device=cpu, seed=seed,
            batch_size=8).model.state_dict(),
    }


@pytest.mark.parametrize("name", ["train_conditional_gan", "simclr_pretrain",
                                  "train_digit_classifier", "train_gamma"])
def test_training_helpers_take_a_seed_and_leave_the_global_stream_alone(name):
    run = _tiny_runs()[name]
    torch.manual_seed(99)
    state = torch.get_rng_state()
    first = run(3)
    assert torch.equal(torch.get_rng_state(), state), f"{name} reseeded the global RNG"
    torch.manual_seed(12345)  # another caller state: the same seed still gives the same model
    again = run(3)
    assert all(torch.equal(first[k], again[k]) for k in first)
    other = run(4)
    assert any(not torch.equal(first[k], other[k]) for k in first)
