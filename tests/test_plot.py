"""course_utils.plot: image grids, history curves and code scatter plots (Agg backend, see conftest)."""

import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from course_utils.plot import COURSE_STYLE, plot_history, scatter_codes, show_images, subplots, use_course_style


def test_backend_is_non_interactive():
    assert matplotlib.get_backend().lower() == "agg"


# ----- show_images --------------------------------------------------------------------------
def _images(n: int, shape: tuple, kind: str):
    g = torch.Generator().manual_seed(n)
    x = torch.rand((n, *shape), generator=g)
    return x if kind == "torch" else x.numpy()


@pytest.mark.parametrize("kind", ["torch", "numpy"])
@pytest.mark.parametrize("shape", [(784,), (28, 28), (1, 28, 28)])
@pytest.mark.parametrize(("n", "ncols"), [(1, 8), (5, 8), (8, 8), (10, 4), (13, 5)])
def test_show_images_grid_layout(kind, shape, n, ncols):
    images = _images(n, shape, kind)
    fig, axes = show_images(images, ncols=ncols)
    cols = min(ncols, n)
    assert isinstance(fig, plt.Figure)
    assert axes.ndim == 2
    assert axes.shape == (math.ceil(n / cols), cols)
    drawn = [ax for ax in axes.flat if ax.images]
    assert len(drawn) == n
    assert all(not ax.images for ax in list(axes.flat)[n:])  # spare panels stay empty
    # each panel shows the right image as 28 x 28
    flat = np.asarray(images).reshape(n, 28, 28)
    for i in (0, n - 1):
        shown = np.asarray(drawn[i].images[0].get_array())
        assert shown.shape == (28, 28)
        np.testing.assert_allclose(shown, flat[i])


def test_show_images_titles_and_suptitle():
    fig, axes = show_images(torch.zeros(3, 16), titles=["a", 1, "c"], suptitle="digits")
    assert [ax.get_title() for ax in axes.flat] == ["a", "1", "c"]
    assert fig._suptitle is not None and fig._suptitle.get_text() == "digits"


def test_show_images_symmetric_centres_the_colour_map():
    images = torch.tensor([[[-0.5, 2.0], [0.0, 1.0]]])
    _, axes = show_images(images, symmetric=True)
    low, high = axes[0, 0].images[0].get_clim()
    assert low == -2.0 and high == 2.0


def test_show_images_symmetric_all_zero_image_still_draws():
    _, axes = show_images(torch.zeros(1, 4, 4), symmetric=True)
    assert axes[0, 0].images[0].get_clim() == (-1.0, 1.0)


def test_show_images_accepts_gradients_tracking_tensors():
    x = torch.rand(2, 784, requires_grad=True)
    _, axes = show_images(x * 2)
    assert axes.shape == (1, 2)


@pytest.mark.parametrize(
    "images",
    [
        pytest.param(torch.rand(4, 3, 28, 28), id="three-channels"),
        pytest.param(torch.rand(4), id="one-dimensional"),
        pytest.param(torch.rand(2, 2, 1, 28, 28), id="five-dimensional"),
        pytest.param(np.zeros((0, 784)), id="empty"),
    ],
)
def test_show_images_rejects_bad_shapes(images):
    with pytest.raises(ValueError, match="images"):
        show_images(images)


@pytest.mark.parametrize("width", [10, 783, 785])
def test_show_images_rejects_rows_that_are_not_square_images(width):
    with pytest.raises(ValueError, match=f"images: rows of length {width}"):
        show_images(torch.rand(3, width))


@pytest.mark.parametrize("titles", [["a"], ["a", "b", "c", "d"], []])
def test_show_images_rejects_the_wrong_number_of_titles(titles):
    with pytest.raises(ValueError, match="titles"):
        show_images(torch.rand(3, 784), titles=titles)


# ----- plot_history -------------------------------------------------------------------------
HISTORY = [
    {"step": 40, "epoch": 1.0, "train_loss": 1.0, "train_mae": 0.9, "valid_loss": 1.2},
    {"step": 80, "epoch": 2.0, "train_loss": 0.5, "train_mae": 0.6, "valid_loss": 0.7},
    {"step": 100, "epoch": 2.5, "train_loss": 0.25, "train_mae": 0.4, "valid_loss": 0.5},
]


def test_plot_history_draws_one_line_per_loss_key():
    fig, ax = plot_history(HISTORY)
    assert ax.figure is fig
    lines = ax.get_lines()
    assert len(lines) == 2
    assert [line.get_label() for line in lines] == ["train loss", "valid loss"]
    np.testing.assert_array_equal(lines[0].get_xdata(), [40, 80, 100])  # against the step
    assert ax.get_xlabel() == "optimizer step"
    np.testing.assert_array_equal(lines[1].get_ydata(), [1.2, 0.7, 0.5])
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train loss", "valid loss"]


def test_plot_history_explicit_keys_linear_axis_and_given_axes():
    fig, ax = plt.subplots()
    out_fig, out_ax = plot_history(HISTORY, keys=["train_mae"], ax=ax, logy=False, title="mae")
    assert out_fig is fig and out_ax is ax
    assert [line.get_label() for line in ax.get_lines()] == ["train mae"]
    assert ax.get_yscale() == "linear"
    assert ax.get_title() == "mae"


def test_plot_history_rejects_an_empty_history():
    with pytest.raises(ValueError, match="history"):
        plot_history([])


# ----- scatter_codes ------------------------------------------------------------------------
def test_scatter_codes_one_group_per_label():
    g = torch.Generator().manual_seed(0)
    codes = torch.randn(30, 2, generator=g)
    labels = torch.arange(30) % 3
    fig, ax = scatter_codes(codes, labels, title="codes")
    assert ax.figure is fig
    assert len(ax.collections) == 3
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0", "1", "2"]
    for digit, collection in enumerate(ax.collections):
        np.testing.assert_allclose(collection.get_offsets(), codes[labels == digit].numpy())
    assert ax.get_title() == "codes"


def test_scatter_codes_accepts_numpy_and_given_axes():
    fig, ax = plt.subplots()
    out_fig, out_ax = scatter_codes(np.zeros((4, 2)), np.array([7, 7, 9, 9]), ax=ax)
    assert out_fig is fig and out_ax is ax
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["7", "9"]


@pytest.mark.parametrize("codes", [torch.zeros(5, 3), torch.zeros(5), torch.zeros(5, 2, 1)])
def test_scatter_codes_rejects_codes_that_are_not_2d_points(codes):
    with pytest.raises(ValueError, match="codes"):
        scatter_codes(codes, torch.zeros(5))


def test_scatter_codes_rejects_mismatched_labels():
    with pytest.raises(ValueError, match="labels: expected 5 labels, got 4"):
        scatter_codes(torch.zeros(5, 2), torch.zeros(4))


# ----- style and subplots -------------------------------------------------------------------
def test_use_course_style_applies_the_style():
    use_course_style()
    for key in ("figure.dpi", "axes.grid", "image.cmap", "axes.spines.top"):
        assert plt.rcParams[key] == COURSE_STYLE[key]


def test_subplots_always_returns_a_2d_axes_array():
    fig, axes = subplots()
    assert axes.shape == (1, 1)
    fig, axes = subplots(2, 3, size=2.0)
    assert axes.shape == (2, 3)
    np.testing.assert_allclose(fig.get_size_inches(), [6.0, 4.0])


def test_show_images_rejects_zero_columns():
    with pytest.raises(ValueError, match="ncols"):
        show_images(torch.zeros(4, 784), ncols=0)
