"""One plotting style for the whole book, and the figures chapters share; helpers return fig, axes."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from course_utils.checks import positive_int

COURSE_STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "figure.constrained_layout.use": True,
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "image.cmap": "gray",
    "axes.prop_cycle": plt.cycler(color=plt.get_cmap("tab10").colors),
}


def use_course_style() -> None:
    """Apply the book's matplotlib style (called once by ``start_chapter``)."""
    plt.rcParams.update(COURSE_STYLE)


def _numpy(x) -> np.ndarray:
    return x.detach().float().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def subplots(nrows: int = 1, ncols: int = 1, *, size: float = 3.0, **kwargs):
    """``plt.subplots`` with panels of ``size`` inches; axes always a 2-D array."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False, **kwargs)
    return fig, axes


def show_images(images, *, ncols: int = 8, titles=None, size: float = 1.1, cmap: str = "gray",
                symmetric: bool = False, suptitle: str | None = None):
    """A grid of square images; ``images`` is (N, 784), (N, H, W) or (N, 1, H, W).

    symmetric=True centres the colour map on zero (for components and differences).
    """
    images = _numpy(images)
    n = len(images)
    if n == 0:
        raise ValueError("images: expected at least one image")
    if images.ndim == 2:
        side = math.isqrt(images.shape[1])
        if side * side != images.shape[1]:
            raise ValueError(f"images: rows of length {images.shape[1]} are not square images")
        images = images.reshape(n, side, side)
    elif images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    elif images.ndim != 3:
        raise ValueError(f"images: expected shape (N, D), (N, H, W) or (N, 1, H, W), got {images.shape}")
    positive_int("ncols", ncols)
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles: expected {n} titles, got {len(titles)}")
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.3 if suptitle else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        if symmetric:
            lim = float(np.abs(images[i]).max()) or 1.0
            ax.imshow(images[i], cmap="RdBu_r", vmin=-lim, vmax=lim)
        else:
            ax.imshow(images[i], cmap=cmap)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    return fig, axes


def plot_history(history: list[dict], keys=None, *, ax=None, logy: bool = True, title: str | None = None,
                 ylabel: str = "loss"):
    """Curves of the metrics in ``Trainer.history`` against the optimizer step (default: every
    "*loss" entry); each point is a record, the mean over the steps since the one before."""
    if not history:
        raise ValueError("history: expected at least one record")
    keys = keys or [k for k in history[0] if k.endswith("loss")]
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(4.5, 3))
    steps = [record["step"] for record in history]
    for key in keys:
        ax.plot(steps, [record[key] for record in history], label=key.replace("_", " "))
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    ax.legend()
    if title:
        ax.set_title(title)
    return fig, ax


def scatter_codes(codes, labels, *, ax=None, title: str | None = None, size: float = 4.0):
    """2-D codes as points, coloured by digit label, with a legend."""
    codes, labels = _numpy(codes), _numpy(labels).astype(int)
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(f"codes: expected shape (N, 2), got {codes.shape}")
    if len(labels) != len(codes):
        raise ValueError(f"labels: expected {len(codes)} labels, got {len(labels)}")
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(size + 0.8, size))
    colors = plt.get_cmap("tab10")
    for digit in np.unique(labels):
        points = codes[labels == digit]
        ax.scatter(points[:, 0], points[:, 1], s=4, alpha=0.6, color=colors(digit % 10), label=str(digit))
    ax.legend(title="digit", markerscale=3, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_xlabel("code 1")
    ax.set_ylabel("code 2")
    if title:
        ax.set_title(title)
    return fig, ax
