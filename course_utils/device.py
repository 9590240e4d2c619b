"""Devices, seeds and mixed precision: pick the best device once, pass it explicitly."""

from __future__ import annotations

import numbers
import os
import random
from contextlib import contextmanager, nullcontext

import numpy as np
import torch

DEVICE_ENV = "COURSE_DEVICE"  # force a device, e.g. COURSE_DEVICE=cpu
_KNOWN_TYPES = ("cuda", "mps", "cpu")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def as_device(name: str, value) -> torch.device:
    """``value`` ("cuda", "mps", "cpu", optionally with an index, or a torch.device) as a
    torch.device; anything else is an error naming the argument ``name``."""
    if isinstance(value, torch.device):
        return value
    expected = (f"expected one of {', '.join(_KNOWN_TYPES)} (optionally with an index, "
                f"like 'cuda:1') or a torch.device")
    if not isinstance(value, str):
        raise TypeError(f"{name}={value!r}: {expected}")
    if value.split(":")[0] not in _KNOWN_TYPES:
        raise ValueError(f"{name}={value!r}: {expected}")
    try:
        return torch.device(value)
    except RuntimeError:  # a bad index, like 'cuda:x'
        raise ValueError(f"{name}={value!r}: {expected}") from None


def pick_device(prefer: str | None = None) -> torch.device:
    """The device to train on: CUDA if present, then Apple MPS, then CPU.

    ``prefer`` (or the environment variable COURSE_DEVICE) forces a device: "cuda", "mps",
    "cpu" (optionally with an index) or a torch.device; asking for one that is not available
    is an error, not a silent fallback.
    """
    source = "prefer" if prefer is not None else f"${DEVICE_ENV}"
    prefer = prefer if prefer is not None else os.environ.get(DEVICE_ENV) or None
    if prefer is not None:
        device = as_device(source, prefer)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"{source}={prefer!r}, but torch sees no CUDA device")
        if device.type == "mps" and not _mps_available():
            raise RuntimeError(f"{source}={prefer!r}, but torch sees no Apple MPS device")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) so a run repeats exactly on the same machine."""
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed={seed!r}: expected a non-negative int")
    seed = int(seed)  # numpy integers too
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA and MPS generators


def amp_dtype(device: torch.device) -> torch.dtype | None:
    """The reduced precision autocast uses on ``device``, or None where we keep float32.

    CUDA: bfloat16 where the card supports it (no loss scaling needed), else float16.
    MPS and CPU: None, since float32 is what those back ends run best and most reliably.
    """
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def autocast(device: torch.device, enabled: bool = True):
    """Mixed-precision context for the forward pass; does nothing on CPU and MPS."""
    dtype = amp_dtype(device)
    if not enabled or dtype is None:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def grad_scaler(device: torch.device, enabled: bool = True) -> torch.amp.GradScaler:
    """A loss scaler that is active only where autocast runs in float16."""
    active = enabled and amp_dtype(device) == torch.float16
    return torch.amp.GradScaler(device.type if active else "cpu", enabled=active)


@contextmanager
def seeded(seed: int):
    """Run the block with torch's global RNG seeded to ``seed`` (CPU and the current device),
    then restore the state it had: a helper that needs repeatable draws leaves the caller's
    random stream as it found it."""
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed={seed!r}: expected a non-negative int")
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices, device_type="cuda"):
        torch.manual_seed(int(seed))
        yield
