"""GPU behaviour of course_utils. These run only where CUDA is present and skip on CPU machines."""

import pytest
import torch
from torch import nn

from course_utils.device import amp_dtype, grad_scaler, pick_device
from course_utils.train import Trainer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def regression(n=512, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=g)
    return x, x @ torch.randn(8, 1, generator=g) + 0.1


def test_cuda_is_picked_first():
    assert pick_device().type == "cuda"


def test_trainer_keeps_data_on_the_gpu_and_runs_forward_in_reduced_precision():
    seen = {}

    def loss_fn(model, batch):
        x, y = batch
        prediction = model(x)
        seen["data_device"] = x.device.type
        seen["forward_dtype"] = prediction.dtype
        return ((prediction.float() - y) ** 2).mean()

    torch.manual_seed(0)
    model = nn.Linear(8, 1)
    # lr 5e-2: 160 Adam steps of 1e-2 cannot move weights of size ~2 far enough (loss falls only
    # 7x; seen on an H200 and on the CPU alike), which made this test fail on its first GPU run
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), 5e-2), loss_fn,
                      device=pick_device(), batch_size=64, progress=False)
    history = trainer.fit(regression(), until_epoch=20)
    assert seen["data_device"] == "cuda"
    assert seen["forward_dtype"] == amp_dtype(torch.device("cuda"))
    assert next(model.parameters()).device.type == "cuda"
    assert next(model.parameters()).dtype == torch.float32  # master weights stay float32
    assert history[-1]["train_loss"] < 0.1 * history[0]["train_loss"]


def test_amp_off_keeps_float32_on_the_gpu():
    seen = {}

    def loss_fn(model, batch):
        x, y = batch
        seen["dtype"] = model(x).dtype
        return ((model(x) - y) ** 2).mean()

    model = nn.Linear(8, 1)
    Trainer(model, torch.optim.SGD(model.parameters(), 1e-2), loss_fn, device=pick_device(),
            amp=False, progress=False).fit(regression(), until_epoch=1)
    assert seen["dtype"] == torch.float32


def test_loss_scaling_is_on_exactly_when_autocast_uses_float16():
    scaler = grad_scaler(torch.device("cuda"))
    assert scaler.is_enabled() == (amp_dtype(torch.device("cuda")) == torch.float16)


def test_a_gpu_checkpoint_resumes_on_the_cpu(tmp_path):
    def loss_fn(model, batch):
        x, y = batch
        return ((model(x).float() - y) ** 2).mean()

    def make(device):
        torch.manual_seed(0)
        model = nn.Linear(8, 1)
        return Trainer(model, torch.optim.Adam(model.parameters(), 1e-2), loss_fn, device=device,
                       checkpoint_path=tmp_path / "ckpt.pt", progress=False)

    on_gpu = make(pick_device())
    on_gpu.fit(regression(), until_epoch=2)
    on_cpu = make(torch.device("cpu"))
    on_cpu.fit(regression(), until_epoch=3)  # resumes after epoch 2, trains one more on the CPU
    assert on_cpu.history[-1]["epoch"] == 3 and on_cpu.history[:2] == on_gpu.history
    assert next(on_cpu.model.parameters()).device.type == "cpu"


def test_the_conditional_gan_trains_on_the_gpu_in_mixed_precision():
    from course_utils.conditional_gan import conditional_samples, train_conditional_gan

    torch.manual_seed(0)
    x, y = torch.rand(256, 784), torch.arange(256) % 10
    gan, trainer = train_conditional_gan(x, y, device=pick_device(), steps=8)
    assert trainer.amp and next(gan.parameters()).device.type == "cuda"
    last = trainer.history[-1]
    assert all(torch.isfinite(torch.tensor(last[k])) for k in ("train_d_loss", "train_g_loss"))
    images, requested = conditional_samples(gan, per_class=3)
    assert images.device.type == "cpu" and images.shape == (30, 784)
    assert images.min() >= 0 and images.max() <= 1


def test_the_gamma_model_trains_with_its_labeled_digits_held_on_the_gpu():
    from course_utils.semisupervised import train_gamma

    torch.manual_seed(0)
    x, y = torch.rand(200, 784), torch.arange(200) % 10
    trainer = train_gamma(x[:20], y[:20], x, lam=1.0, steps=4, device=pick_device(),
                          batch_size=50)
    assert trainer.x_labeled.device.type == "cuda"
    assert next(trainer.model.parameters()).device.type == "cuda"
    assert torch.isfinite(torch.tensor(trainer.history[-1]["train_loss"]))


def test_the_diffusion_unet_trains_samples_and_scores_on_the_gpu():
    from course_utils.diffusion import (Guided, NoiseSchedule, TinyUNet, ddim_sample,
                                        epsilon_loss, variational_bound)
    from course_utils.train import train_with_loss

    schedule = NoiseSchedule()
    torch.manual_seed(0)
    x, y = torch.rand(256, 1, 28, 28) * 2 - 1, torch.arange(256) % 10
    unet = TinyUNet(channels=16, classes=10)
    trainer = train_with_loss(unet, (x, y), lambda m, b: epsilon_loss(m, b[0], schedule, b[1]),
                              steps=6, batch_size=64, device=pick_device())
    assert trainer.amp and next(unet.parameters()).device.type == "cuda"
    assert torch.isfinite(torch.tensor(trainer.history[-1]["train_loss"]))
    unet.eval()
    labels = torch.arange(8, device="cuda") % 10
    samples = ddim_sample(Guided(unet, labels, 2.0), schedule, (8, 1, 28, 28), 5,
                          torch.Generator().manual_seed(0))
    assert samples.device.type == "cuda" and samples.abs().max() <= 1 + 1e-5
    bound = variational_bound(unet, schedule, x[:4].cuda(), 10, torch.Generator().manual_seed(0))
    assert bound.device.type == "cuda" and torch.isfinite(bound).all() and (bound > 0).all()
