"""An iGAN-style editor in the notebook: pick a digit, move one generated sample along latent
directions with sliders, draw a new sample with a button (ipywidgets; needs a live kernel)."""

from __future__ import annotations

import io

import torch

from course_utils.conditional_gan import ConditionalGAN


def _png(image: torch.Tensor, scale: int) -> bytes:
    """(784,) in [0, 1] -> PNG bytes of the 28x28 digit, enlarged ``scale`` times."""
    from PIL import Image

    pixels = (image.reshape(28, 28).clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    buffer = io.BytesIO()
    Image.fromarray(pixels).resize((28 * scale, 28 * scale), Image.NEAREST).save(buffer, "PNG")
    return buffer.getvalue()


def latent_editor(gan: ConditionalGAN, directions: dict, *, digit: int = 0, limit: float = 3.0,
                  seed: int = 0, scale: int = 6):
    """A widget box: a digit dropdown, one slider in [-limit, limit] per unit direction (d,) of
    ``directions`` {name: tensor}, a "new sample" button and the image of
    G(z + sum_k slider_k direction_k, digit). The parts are attributes of the box
    (.digit, .sliders {name: slider}, .button, .image) so that code can drive it."""
    import ipywidgets as widgets

    if not isinstance(gan, ConditionalGAN):
        raise TypeError(f"gan: expected a ConditionalGAN, got {type(gan).__name__}")
    if not isinstance(directions, dict) or not directions:
        raise ValueError("directions: expected a non-empty dict {name: (latent_dim,) tensor}")
    for name, vector in directions.items():
        if not isinstance(vector, torch.Tensor) or vector.shape != (gan.latent_dim,):
            raise ValueError(f"directions[{name!r}]: expected a tensor of shape "
                             f"({gan.latent_dim},), got {getattr(vector, 'shape', vector)!r}")
    if not isinstance(digit, int) or not 0 <= digit < gan.n_classes:
        raise ValueError(f"digit={digit!r}: expected an int in 0..{gan.n_classes - 1}")
    if not isinstance(limit, (int, float)) or limit <= 0:
        raise ValueError(f"limit={limit!r}: expected a positive number")

    draw = torch.Generator().manual_seed(seed)
    state = {"z": gan.noise(1, draw).cpu()}  # (1, latent_dim), the sample being edited
    digit_box = widgets.Dropdown(options=list(range(gan.n_classes)), value=digit,
                                 description="digit")
    sliders = {name: widgets.FloatSlider(value=0.0, min=-limit, max=limit, step=0.25,
                                         description=name, continuous_update=False)
               for name in directions}
    button = widgets.Button(description="new sample")
    image = widgets.Image(format="png", width=28 * scale, height=28 * scale)

    def render(_=None):
        z = state["z"].clone()
        for name, vector in directions.items():
            z += sliders[name].value * vector.cpu()
        label = torch.tensor([digit_box.value])
        image.value = _png((gan.sample(label, z=z)[0].cpu() + 1) / 2, scale)

    def new_sample(_=None):
        state["z"] = gan.noise(1, draw).cpu()
        for slider in sliders.values():
            slider.value = 0.0
        render()

    digit_box.observe(render, names="value")
    for slider in sliders.values():
        slider.observe(render, names="value")
    button.on_click(new_sample)
    render()
    box = widgets.HBox([widgets.VBox([digit_box, *sliders.values(), button]), image])
    box.digit, box.sliders, box.button, box.image = digit_box, sliders, button, image
    return box
