"""Train the shape classifier of `steering_core.metrics.shape` and measure it on fresh images.

    python benchmarks/shape_classifier.py                # evaluate the shipped weights
    python benchmarks/shape_classifier.py --train        # retrain (seeded), save, evaluate

Training images are the procedural world's own shape masks (6 shapes x 3 sizes x 9
positions), painted with random colours and roughened the way a diffusion model's output
is (small shifts, rotations and rescales, shading, Gaussian noise, blur), so the classifier
learns form, not colour, and tolerates imperfect images. Evaluation renders fresh scenes
with `world.render` from a seed the training never used, clean and roughened.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch
import torch.nn.functional as F

from steering_core.builtin import world
from steering_core.metrics import shape as shape_metric

EVAL_SEED = 20_250_101  # never used by training, which draws from --seed


def shape_masks() -> tuple[np.ndarray, np.ndarray]:
    """Every (shape, size, position) coverage mask of the world and its shape index."""
    masks, labels = [], []
    for label, shape in enumerate(world.SHAPES):
        for size in world.SIZES:
            for position in world.POSITIONS:
                masks.append(world.draw_shape_mask(shape, size, position))
                labels.append(label)
    return np.stack(masks).astype(np.float32), np.array(labels)


def _named_rgb() -> np.ndarray:
    return np.array([world.hex_to_rgb(code) for code in world.COLOURS.values()]) / 255.0


def _colour_pairs(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Half named pairs (slightly jittered), half arbitrary pairs at least 0.25 apart in RGB."""
    named = _named_rgb()
    first = rng.integers(len(named), size=n)
    second = (first + rng.integers(1, len(named), size=n)) % len(named)  # never the same
    fg = named[first] + rng.normal(0, 0.03, (n, 3))
    bg = named[second] + rng.normal(0, 0.03, (n, 3))
    arbitrary = rng.random(n) < 0.5
    for _ in range(100):  # rejection sampling; a handful of rounds always suffices
        fg_r, bg_r = rng.random((n, 3)), rng.random((n, 3))
        redo = arbitrary & (np.linalg.norm(fg_r - bg_r, axis=1) >= 0.25)
        fg[redo], bg[redo] = fg_r[redo], bg_r[redo]
        arbitrary &= ~redo
        if not arbitrary.any():
            break
    return np.clip(fg, 0, 1), np.clip(bg, 0, 1)


def _gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur `n x 3 x H x W` images with one separable Gaussian kernel."""
    radius = 2
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-(x**2) / (2 * sigma**2))
    kernel = (kernel / kernel.sum()).to(images.dtype)
    channels = images.shape[1]
    padded = F.pad(images, (radius, radius, radius, radius), mode="replicate")
    out = F.conv2d(padded, kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1), groups=channels)
    return F.conv2d(out, kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1), groups=channels)


def roughen(images: np.ndarray, rng: np.random.Generator, noise: float, blur: float) -> np.ndarray:
    """Add Gaussian noise (std `noise`, 0-1 units) and blur (`blur` px) to uint8 images."""
    tensor = torch.from_numpy(images.astype(np.float32) / 255.0).permute(0, 3, 1, 2)
    if blur > 0:
        tensor = _gaussian_blur(tensor, blur)
    array = tensor.permute(0, 2, 3, 1).numpy()
    array = array + rng.normal(0, noise, array.shape).astype(np.float32)
    return np.clip(np.round(array * 255), 0, 255).astype(np.uint8)


def synthetic_batch(
    rng: np.random.Generator, masks: np.ndarray, labels: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """`n` roughened training images (uint8) and their shape indices."""
    index = rng.integers(len(masks), size=n)
    coverage = torch.from_numpy(masks[index])[:, None]
    # Half the images get a small random affine change of the shape (the generator will not
    # put shapes exactly where the world does); the rest stay exact.
    moved = rng.random(n) < 0.5
    angle = np.where(moved, rng.uniform(-8, 8, n), 0.0) * np.pi / 180
    scale = np.where(moved, rng.uniform(0.9, 1.1, n), 1.0)
    shift = np.where(moved[:, None], rng.uniform(-1.5, 1.5, (n, 2)), 0.0) * 2 / world.IMAGE_SIZE
    theta = np.zeros((n, 2, 3), dtype=np.float32)
    theta[:, 0, 0] = theta[:, 1, 1] = np.cos(angle) / scale
    theta[:, 0, 1] = -np.sin(angle) / scale
    theta[:, 1, 0] = np.sin(angle) / scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(torch.from_numpy(theta), list(coverage.shape), align_corners=False)
    coverage = F.grid_sample(coverage, grid, align_corners=False).numpy()[:, 0, :, :, None]

    fg, bg = _colour_pairs(rng, n)
    images = coverage * fg[:, None, None] + (1 - coverage) * bg[:, None, None]
    # Shading: a gentle linear gradient on 30% of the images.
    shaded = rng.random(n) < 0.3
    yy, xx = np.mgrid[-1:1:32j, -1:1:32j]
    phase = rng.uniform(0, 2 * np.pi, n)
    ramp = np.cos(phase)[:, None, None] * xx + np.sin(phase)[:, None, None] * yy
    amplitude = np.where(shaded[:, None], rng.uniform(-0.08, 0.08, (n, 3)), 0.0)
    images = images + ramp[..., None] * amplitude[:, None, None, :]
    images = np.clip(np.round(images * 255), 0, 255).astype(np.uint8)

    blurred = rng.random(n) < 0.3
    if blurred.any():
        images[blurred] = roughen(images[blurred], rng, 0.0, float(rng.uniform(0.4, 1.0)))
    noisy = rng.random(n) < 0.5
    if noisy.any():
        images[noisy] = roughen(images[noisy], rng, float(rng.uniform(0.0, 0.06)), 0.0)
    return images, labels[index]


def train(seed: int, steps: int, batch_size: int, out: Path) -> dict:
    """Train from `seed`, save weights and config to `out`, return the training record."""
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    masks, labels = shape_masks()
    net = shape_metric.ShapeNet()
    optimiser = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=3e-3, total_steps=steps)
    start = time.perf_counter()
    running = None
    for step in range(1, steps + 1):
        images, targets = synthetic_batch(rng, masks, labels, batch_size)
        inputs = torch.from_numpy(shape_metric.shape_input(images))
        loss = F.cross_entropy(net(inputs), torch.from_numpy(targets))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if step % 250 == 0 or step == steps:
            print(f"step {step}/{steps}  loss {running:.4f}  {time.perf_counter() - start:.0f}s")
    seconds = time.perf_counter() - start

    out.mkdir(parents=True, exist_ok=True)
    weights = out / shape_metric.WEIGHTS_FILE
    state = {name: tensor.contiguous() for name, tensor in net.state_dict().items()}
    save_file(state, str(weights))
    record = {"seed": seed, "steps": steps, "batch_size": batch_size, "seconds": round(seconds)}
    config = {
        "architecture": shape_metric.ARCHITECTURE,
        "preprocessing": shape_metric.PREPROCESSING,
        "classes": list(world.SHAPES),
        "channels": [16, 32, 64],
        "hidden": 64,
        "input_size": world.IMAGE_SIZE,
        "sha256": shape_metric.file_sha256(weights),
        "training": record,
    }
    (out / shape_metric.CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    return record


def fresh_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` freshly rendered procedural scenes and their shape indices."""
    rng = np.random.default_rng(seed)
    scenes = [world.sample_scene(rng) for _ in range(n)]
    images = np.stack([world.render(scene) for scene in scenes])
    return images, np.array([world.SHAPES.index(scene.shape) for scene in scenes])


def evaluate(weights_dir: Path, n: int, seed: int) -> dict[str, float]:
    """Accuracy on `n` fresh images, clean and roughened (noise 0.03, blur 0.7 px)."""
    images, labels = fresh_images(n, seed)
    rng = np.random.default_rng(seed + 1)
    variants = {
        "clean": images,
        "noise_0.03": roughen(images, rng, 0.03, 0.0),
        "blur_0.7": roughen(images, rng, 0.0, 0.7),
        "noise_0.03_blur_0.7": roughen(images, rng, 0.03, 0.7),
    }
    results = {}
    for name, batch in variants.items():
        predicted = shape_metric.shape_probabilities(batch, weights_dir).argmax(axis=1)
        results[name] = float((predicted == labels).mean())
        if name == "clean":
            confusion = np.zeros((len(world.SHAPES),) * 2, dtype=int)
            np.add.at(confusion, (labels, predicted), 1)
            print("confusion (rows: true, cols: predicted)", world.SHAPES)
            print(confusion)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true", help="retrain and overwrite the weights")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--eval-images", type=int, default=3000)
    parser.add_argument("--eval-seed", type=int, default=EVAL_SEED)
    parser.add_argument("--out", type=Path, default=shape_metric.DEFAULT_WEIGHTS_DIR)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.train:
        print("trained:", train(args.seed, args.steps, args.batch_size, args.out))
    start = time.perf_counter()
    results = evaluate(args.out, args.eval_images, args.eval_seed)
    print(
        f"evaluated {args.eval_images} fresh images (seed {args.eval_seed}) "
        f"in {time.perf_counter() - start:.1f}s"
    )
    for name, accuracy in results.items():
        print(f"  accuracy {name:<22} {accuracy:.4f}")


if __name__ == "__main__":
    main()
