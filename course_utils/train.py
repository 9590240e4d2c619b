"""A small trainer: mini-batches from device-resident tensors, history, evaluation, checkpoints.

One step is one method, ``train_step``; a subclass overrides it to change what a step does
(a GAN steps two optimizers there), and keeps batching, progress, history and checkpoints.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import torch
from torch import nn
from tqdm.auto import tqdm

from course_utils.checks import positive_int
from course_utils.device import autocast, grad_scaler

Batch = tuple[torch.Tensor, ...]
LossFn = Callable[[nn.Module, Batch], "torch.Tensor | dict[str, torch.Tensor]"]


class Trainer:
    """Minimise ``loss_fn(model, batch)`` with ``optimizer`` over shuffled mini-batches.

    loss_fn returns a scalar loss, or a dict with a "loss" entry and other metrics to record.
    optimizer is one torch optimizer, or a dict of them for a subclass that needs several.
    scheduler, if given, is a learning-rate scheduler stepped after every batch (OneCycleLR, say).
    checkpoint_path, if given, is written every ``checkpoint_every`` epochs; ``fit`` resumes
    from it, so an interrupted run loses at most one checkpoint interval.
    """

    def __init__(self, model: nn.Module, optimizer, loss_fn: LossFn | None = None, *,
                 device: torch.device, batch_size: int = 128, amp: bool = True,
                 checkpoint_path: str | Path | None = None, checkpoint_every: int = 1,
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
        self.device = torch.device(device)
        self.model = model.to(self.device)
        self.optimizers = optimizers
        self.loss_fn = loss_fn
        if scheduler is not None and not hasattr(scheduler, "step"):
            raise TypeError(f"scheduler: expected a torch learning-rate scheduler, got {scheduler!r}")
        self.scheduler = scheduler
        self.batch_size = positive_int("batch_size", batch_size)
        self.amp = amp
        self.scaler = grad_scaler(self.device, amp)
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path is not None else None
        self.checkpoint_every = positive_int("checkpoint_every", checkpoint_every)
        self.progress = progress
        self.generator = torch.Generator().manual_seed(positive_int("seed", seed, allow_zero=True))
        self.epoch = 0  # epochs completed so far
        self.history: list[dict[str, float]] = []  # one record per epoch

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        """The optimizer, for the common case of exactly one."""
        if len(self.optimizers) != 1:
            raise AttributeError(f"this trainer has optimizers {list(self.optimizers)}; pick one by name")
        return next(iter(self.optimizers.values()))

    # ----- one step: what a subclass overrides -------------------------------------------
    def compute_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        if self.loss_fn is None:
            raise NotImplementedError("pass loss_fn=..., or override compute_loss / train_step")
        with autocast(self.device, self.amp):
            out = self.loss_fn(self.model, batch)
        metrics = out if isinstance(out, dict) else {"loss": out}
        if "loss" not in metrics:
            raise ValueError(f"loss_fn returned metrics {list(metrics)}; one must be named 'loss'")
        return metrics

    def optimize(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        """Backward pass and one update of ``optimizer`` (loss scaling where float16 needs it)."""
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        self.scaler.update()

    def train_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        metrics = self.compute_loss(batch)
        self.optimize(metrics["loss"], self.optimizer)
        return metrics

    def _train_batch(self, batch: Batch) -> dict[str, torch.Tensor]:
        metrics = self.train_step(batch)
        if self.scheduler is not None:  # once per batch, whatever step a subclass defines
            self.scheduler.step()
        return metrics

    @torch.no_grad()
    def eval_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        return self.compute_loss(batch)

    # ----- loops ------------------------------------------------------------------------
    def batches(self, tensors: Batch, shuffle: bool):
        n = len(tensors[0])
        order = torch.randperm(n, generator=self.generator).to(self.device) if shuffle else None
        for start in range(0, n, self.batch_size):
            if order is None:
                yield tuple(t[start:start + self.batch_size] for t in tensors)
            else:
                idx = order[start:start + self.batch_size]
                yield tuple(t[idx] for t in tensors)

    def _run_epoch(self, tensors: Batch, step, shuffle: bool) -> dict[str, float]:
        totals: dict[str, torch.Tensor] = {}
        for batch in self.batches(tensors, shuffle):
            weight = len(batch[0])
            for key, value in step(batch).items():
                totals[key] = totals.get(key, 0.0) + value.detach().float() * weight
        return {key: (total / len(tensors[0])).item() for key, total in totals.items()}

    def evaluate(self, data) -> dict[str, float]:
        """Mean of each metric over ``data`` (a tensor or tuple of tensors), in eval mode."""
        tensors = self._prepare(data, "data")
        was_training = self.model.training
        self.model.eval()
        try:
            return self._run_epoch(tensors, self.eval_step, shuffle=False)
        finally:
            self.model.train(was_training)

    def fit(self, train, epochs: int, valid=None, resume: bool = True) -> list[dict[str, float]]:
        """Train until ``epochs`` epochs are done in all (resuming from a checkpoint if any)."""
        positive_int("epochs", epochs, allow_zero=True)
        train = self._prepare(train, "train")
        valid = self._prepare(valid, "valid") if valid is not None else None
        if resume and self.checkpoint_path is not None and self.checkpoint_path.exists():
            self.load_checkpoint(self.checkpoint_path)
            if self.epoch > epochs:
                print(f"the checkpoint already holds {self.epoch} epochs, more than epochs={epochs}: "
                      "nothing to train")
        bar = tqdm(range(self.epoch, epochs), initial=self.epoch, total=epochs,
                   desc="epochs", disable=not self.progress)
        for _ in bar:
            self.model.train()
            record = {"epoch": self.epoch + 1}
            record.update({f"train_{k}": v for k, v in self._run_epoch(train, self._train_batch, True).items()})
            if valid is not None:
                record.update({f"valid_{k}": v for k, v in self.evaluate(valid).items()})
            self.history.append(record)
            self.epoch += 1
            bar.set_postfix({k: f"{v:.4g}" for k, v in record.items() if k.endswith("loss")})
            if self.checkpoint_path is not None and (self.epoch % self.checkpoint_every == 0 or self.epoch == epochs):
                self.save_checkpoint(self.checkpoint_path)
        return self.history

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
            "epoch": self.epoch,
            "history": self.history,
            "model": self.model.state_dict(),
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "scaler": self.scaler.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "shuffle_rng": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        }

    def load_state_dict(self, state: dict) -> None:
        missing = set(self.optimizers) ^ set(state["optimizers"])
        if missing:
            raise ValueError(f"checkpoint optimizers {sorted(state['optimizers'])} "
                             f"do not match this trainer's {sorted(self.optimizers)}")
        self.model.load_state_dict(state["model"])
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        if state["scaler"]:
            self.scaler.load_state_dict(state["scaler"])
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.generator.set_state(state["shuffle_rng"])
        torch.set_rng_state(state["torch_rng"])
        if state["cuda_rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        self.epoch = state["epoch"]
        self.history = list(state["history"])

    def save_checkpoint(self, path: str | Path) -> None:
        """Write atomically: a crash while saving leaves the previous checkpoint intact."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        try:
            torch.save(self.state_dict(), tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)  # only left over if saving failed

    def load_checkpoint(self, path: str | Path) -> None:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"checkpoint path={str(path)!r} does not exist")
        self.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        if self.progress:
            print(f"resumed from {path} after epoch {self.epoch}")
