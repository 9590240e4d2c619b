"""A small trainer: budgets in optimizer steps, history, evaluation, checkpoints.

Its hooks: ``metrics(batch)`` measures one batch (by default ``loss_fn``); ``train_step`` takes
one optimizer step on it and ``eval_step`` only measures it. A subclass overrides ``metrics`` to
change what is measured, or the two steps to change what a step does (a GAN steps two
optimizers), and keeps batching, progress, history and checkpoints.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import torch
from torch import nn
from tqdm.auto import tqdm

from course_utils.checks import positive_int
from course_utils.device import as_device, autocast, grad_scaler

Batch = tuple[torch.Tensor, ...]
LossFn = Callable[[nn.Module, Batch], "torch.Tensor | dict[str, torch.Tensor]"]
CHECKSUM_TAG = b"\ncourse_utils checkpoint sha256 "  # then 64 hex digits: every checkpoint's end


@contextmanager
def eval_mode(model: nn.Module):
    """Run the block with ``model`` in eval mode (dropout off, batch norm's running
    statistics), then put it back in the mode it was in."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


@torch.no_grad()
def predict(fn: Callable, x: torch.Tensor, device, batch_size: int = 1000) -> torch.Tensor:
    """``fn`` (a model, or a method of one) on the rows of ``x`` in batches on ``device``,
    without gradients and with the model in eval mode; the result on the CPU."""
    model = fn if isinstance(fn, nn.Module) else getattr(fn, "__self__", None)
    if not isinstance(model, nn.Module):
        raise TypeError(f"fn: expected a torch module or a method of one, got {fn!r}")
    with eval_mode(model):
        return torch.cat([fn(chunk.to(device)).cpu()
                          for chunk in x.split(positive_int("batch_size", batch_size))])


class Trainer:
    """Minimise ``loss_fn(model, batch)`` with ``optimizer`` over shuffled mini-batches.

    loss_fn returns a scalar loss, or a dict with a "loss" entry and other metrics to record.
    optimizer is one torch optimizer, or a dict of them for a subclass that needs several.
    scheduler, if given, is a learning-rate scheduler stepped after every optimizer step.
    log_every steps (default: one epoch's), ``history`` gets a record: the step, the epoch
    (a float), each metric's mean over those steps, and validation metrics; the record is
    also written to ``checkpoint_path`` if given, and ``fit`` resumes from it, so an
    interrupted run loses at most ``log_every`` steps.
    """

    def __init__(self, model: nn.Module, optimizer, loss_fn: LossFn | None = None, *,
                 device, batch_size: int = 128, amp: bool = True,
                 checkpoint_path: str | Path | None = None, log_every: int | None = None,
                 seed: int = 0, progress: bool = True, scheduler=None):
        if not isinstance(model, nn.Module):
            raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
        optimizers = optimizer if isinstance(optimizer, dict) else {"main": optimizer}
        for name, opt in optimizers.items():
            if not isinstance(opt, torch.optim.Optimizer):
                raise TypeError(f"optimizer[{name!r}]: expected a torch.optim.Optimizer, "
                                f"got {type(opt).__name__}")
        if loss_fn is not None and not callable(loss_fn):
            raise TypeError(f"loss_fn: expected a function (model, batch) -> loss, got {loss_fn!r}")
        if scheduler is not None and not hasattr(scheduler, "step"):
            raise TypeError(f"scheduler: expected a torch learning-rate scheduler, got {scheduler!r}")
        self.device = as_device("device", device)
        self.model = model.to(self.device)
        self.optimizers, self.loss_fn, self.scheduler = optimizers, loss_fn, scheduler
        self.batch_size = positive_int("batch_size", batch_size)
        self.amp, self.scaler = amp, grad_scaler(self.device, amp)
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path is not None else None
        self.log_every = None if log_every is None else positive_int("log_every", log_every)
        self.progress = progress
        self.seed = positive_int("seed", seed, allow_zero=True)
        self.generator = torch.Generator().manual_seed(seed)  # for a subclass's own draws
        self.step = 0  # optimizer steps taken so far
        self.history: list[dict[str, float]] = []  # one record per log_every steps

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        """The optimizer, for the common case of exactly one."""
        if len(self.optimizers) != 1:
            raise AttributeError(f"this trainer has optimizers {list(self.optimizers)}; pick one by name")
        return next(iter(self.optimizers.values()))

    # ----- hooks: what a subclass overrides ------------------------------------------------
    def metrics(self, batch: Batch) -> dict[str, torch.Tensor]:
        """What one batch measures: {"loss": ..., other metrics} from ``loss_fn``."""
        if self.loss_fn is None:
            raise NotImplementedError("pass loss_fn=..., or override metrics (or train_step "
                                      "and eval_step)")
        with autocast(self.device, self.amp):
            out = self.loss_fn(self.model, batch)
        metrics = out if isinstance(out, dict) else {"loss": out}
        if "loss" not in metrics:
            raise ValueError(f"loss_fn returned metrics {list(metrics)}; one must be named 'loss'")
        for key, value in metrics.items():
            if not isinstance(value, torch.Tensor) or value.numel() != 1:
                raise TypeError(f"loss_fn returned {key}={value!r}: expected a one-element "
                                "tensor (a Python float carries no gradient)")
        return metrics

    def train_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """One optimizer step on ``batch``; returns its metrics."""
        metrics = self.metrics(batch)
        self.optimize(metrics["loss"], self.optimizer)
        return metrics

    @torch.no_grad()
    def eval_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """The metrics of ``batch``, without training (``evaluate`` sets eval mode)."""
        return self.metrics(batch)

    def optimize(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        """Backward pass and one update of ``optimizer`` (loss scaling where float16 needs it)."""
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        self.scaler.update()

    # ----- the loop -------------------------------------------------------------------------
    def fit(self, train, *, until_step: int | None = None, until_epoch: int | None = None,
            valid=None, resume: bool = True) -> list[dict[str, float]]:
        """Train until ``until_step`` optimizer steps (or ``until_epoch`` passes over ``train``)
        are done in all, counting earlier calls and a checkpoint it resumes from."""
        train = self._prepare(train, "train")
        valid = self._prepare(valid, "valid") if valid is not None else None
        per_epoch = math.ceil(len(train[0]) / self.batch_size)
        last = self._budget(until_step, until_epoch, per_epoch)
        if resume and self.checkpoint_path is not None and self.checkpoint_path.exists():
            self.load_checkpoint(self.checkpoint_path)
        if self.step > last:
            print(f"this model has had {self.step} steps already, more than {last}: nothing to train")
        log_every = self.log_every or per_epoch
        interval: list[tuple[int, dict]] = []  # (batch size, metrics) of the steps since the last record
        batches = self.batches(train, per_epoch)
        self.model.train()
        with tqdm(total=last, initial=min(self.step, last), desc="steps", mininterval=1.0,
                  disable=not self.progress) as bar:  # redrawn at most once a second
            while self.step < last:
                batch = next(batches)
                interval.append((len(batch[0]), self.train_step(batch)))
                if self.scheduler is not None:  # once per step, whatever step a subclass defines
                    self.scheduler.step()
                self.step += 1
                bar.update()
                if self.step % log_every == 0 or self.step == last:
                    record = self._record(interval, per_epoch, valid)
                    interval = []
                    bar.set_postfix({k: f"{v:.4g}" for k, v in record.items() if k.endswith("loss")})
                    if self.checkpoint_path is not None:
                        self.save_checkpoint(self.checkpoint_path)
        return self.history

    def batches(self, tensors: Batch, per_epoch: int):
        """Endless shuffled mini-batches, from step ``self.step`` on. Epoch e's order depends
        only on (seed, e), so a resumed run sees the batches an uninterrupted one would."""
        epoch, skip = divmod(self.step, per_epoch)
        while True:
            order = torch.randperm(len(tensors[0]), generator=torch.Generator().manual_seed(
                self.seed * 1_000_003 + epoch)).to(self.device)
            for idx in order.split(self.batch_size)[skip:]:
                yield tuple(t[idx] for t in tensors)
            epoch, skip = epoch + 1, 0

    def _record(self, interval: list[tuple[int, dict]], per_epoch: int, valid) -> dict:
        """Append a history record: each metric's mean over ``interval``, weighted by batch
        size, and the validation metrics; stop at the first step whose metric is not finite."""
        weights = torch.tensor([w for w, _ in interval], dtype=torch.float32, device=self.device)
        record = {"step": self.step, "epoch": round(self.step / per_epoch, 4)}
        for key in interval[0][1]:
            values = torch.stack([m[key].detach().float().reshape(()) for _, m in interval])
            bad = (~torch.isfinite(values)).nonzero()
            if len(bad):
                step = self.step - len(interval) + 1 + int(bad[0])
                raise FloatingPointError(f"step {step}: {key} = {values[bad[0]].item()}; training "
                                         "stopped (try a lower learning rate, or check the data)")
            record[f"train_{key}"] = ((values * weights).sum() / weights.sum()).item()
        if valid is not None:
            record.update({f"valid_{k}": v for k, v in self.evaluate(valid).items()})
        self.history.append(record)
        return record

    def evaluate(self, data) -> dict[str, float]:
        """Mean of each ``eval_step`` metric over ``data`` (a tensor or tuple of tensors), in eval mode."""
        tensors = self._prepare(data, "data")
        totals: dict[str, torch.Tensor] = {}
        with eval_mode(self.model):
            for start in range(0, len(tensors[0]), self.batch_size):
                batch = tuple(t[start:start + self.batch_size] for t in tensors)
                for key, value in self.eval_step(batch).items():
                    totals[key] = totals.get(key, 0.0) + value.detach().float() * len(batch[0])
        return {key: (total / len(tensors[0])).item() for key, total in totals.items()}

    @staticmethod
    def _budget(until_step, until_epoch, per_epoch: int) -> int:
        if (until_step is None) == (until_epoch is None):
            raise TypeError("fit: give exactly one budget, until_step=... or until_epoch=...")
        if until_step is not None:
            return positive_int("until_step", until_step, allow_zero=True)
        return positive_int("until_epoch", until_epoch, allow_zero=True) * per_epoch

    def _prepare(self, data, name: str) -> Batch:
        tensors = tuple(data) if isinstance(data, (tuple, list)) else (data,)
        if not tensors or not all(isinstance(t, torch.Tensor) for t in tensors):
            raise TypeError(f"{name}: expected a tensor or a tuple of tensors")
        lengths = {len(t) for t in tensors}
        if len(lengths) != 1 or 0 in lengths:
            raise ValueError(f"{name}: tensors must be non-empty and share their first dimension, "
                             f"got lengths {[len(t) for t in tensors]}")
        return tuple(t.to(self.device) for t in tensors)  # resident on the device from here on

    # ----- checkpoints ------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            "step": self.step,
            "history": self.history,
            "model": self.model.state_dict(),
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "scaler": self.scaler.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        }

    def load_state_dict(self, state: dict) -> None:
        if set(self.optimizers) != set(state["optimizers"]):
            raise ValueError(f"checkpoint optimizers {sorted(state['optimizers'])} "
                             f"do not match this trainer's {sorted(self.optimizers)}")
        self.model.load_state_dict(state["model"])
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        if state["scaler"]:
            self.scaler.load_state_dict(state["scaler"])
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        if state["cuda_rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        self.step, self.history = state["step"], list(state["history"])

    def save_checkpoint(self, path: str | Path) -> None:
        """Write atomically, with a SHA-256 of the contents at the end: a crash while saving
        leaves the previous checkpoint intact, and a damaged file is detected on loading."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        torch.save(self.state_dict(), buffer)
        payload = buffer.getvalue()
        tmp = path.with_name(path.name + ".tmp")
        try:
            tmp.write_bytes(payload + CHECKSUM_TAG + hashlib.sha256(payload).hexdigest().encode())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)  # only left over if saving failed

    def load_checkpoint(self, path: str | Path) -> None:
        state = read_checkpoint(path)
        try:
            self.load_state_dict(state)
        except (RuntimeError, KeyError) as error:
            raise ValueError(f"checkpoint {path} does not fit this trainer ({error}); "
                             f"{WAY_OUT}") from error
        if self.progress:
            print(f"resumed from {path} after step {self.step}")


def train_with_loss(model: nn.Module, data, loss_fn, *, steps: int, device: torch.device,
                    lr: float = 2e-3, one_cycle: bool = True, batch_size: int = 128,
                    seed: int = 0, progress: bool = False, amp: bool = True,
                    checkpoint_path: str | Path | None = None,
                    log_every: int | None = None) -> Trainer:
    """Adam on ``loss_fn`` for ``steps`` mini-batch steps, with a one-cycle learning-rate
    schedule unless ``one_cycle=False``. With ``checkpoint_path`` the run saves every
    ``log_every`` steps and resumes from there; ``amp=False`` keeps a GPU in float32 (a
    flow's log-determinants, sums of hundreds of terms, need it). Returns the Trainer."""
    positive_int("steps", steps)
    if one_cycle and checkpoint_path is not None and Path(checkpoint_path).exists():
        saved = (read_checkpoint(checkpoint_path).get("scheduler") or {}).get("total_steps")
        if saved is not None and saved != steps:  # the schedule's length is in the checkpoint
            raise ValueError(f"checkpoint {checkpoint_path} was saved by a run of steps={saved}, "
                             f"whose one-cycle schedule cannot stretch to steps={steps}: resume "
                             "with the same steps, or delete it to start afresh")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = (torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, total_steps=steps)
                 if one_cycle else None)
    trainer = Trainer(model, optimizer, loss_fn, device=device, batch_size=batch_size,
                      scheduler=scheduler, progress=progress, seed=seed, amp=amp,
                      checkpoint_path=checkpoint_path, log_every=log_every)
    trainer.fit(data, until_step=steps)
    return trainer


WAY_OUT = "delete it, or pass resume=False to start afresh"


def read_checkpoint(path: str | Path) -> dict:
    """The state a Trainer saved at ``path``, once its SHA-256 matches."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint path={str(path)!r} does not exist or is not a file")
    payload, tag, digest = path.read_bytes().rpartition(CHECKSUM_TAG)
    if not tag or hashlib.sha256(payload).hexdigest().encode() != digest:
        raise ValueError(f"checkpoint {path} is damaged (empty, cut short or changed since it "
                         f"was written: its SHA-256 does not match); {WAY_OUT}")
    return torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
