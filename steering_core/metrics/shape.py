"""Shape faithfulness: a tiny CNN, trained on the procedural world, that names an image's shape."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from steering_core.builtin.world import IMAGE_SIZE, SHAPES
from steering_core.errors import DataCorrupt, InvalidInput
from steering_core.metrics.colour import ImageLike, as_rgb_array

DEFAULT_WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "checkpoints" / "shape_classifier"
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
ARCHITECTURE = "tiny-cnn-v1"
PREPROCESSING = "border-distance-v1"


def shape_input(images: np.ndarray) -> np.ndarray:
    """`n x 1 x 32 x 32` float32 network input from `n x 32 x 32 x 3` uint8 images.

    Each pixel becomes its RGB distance to the background (the per-channel median of the
    border ring), divided by the image's 99th-percentile distance and clipped to [0, 1]: the
    shape is ~1, the background ~0, whatever the two colours are. The classifier thus never
    sees colour, only form, and a colour pair it was not trained on changes nothing.
    """
    pixels = images.astype(np.float32) / 255.0
    border = np.concatenate(
        [pixels[:, 0], pixels[:, -1], pixels[:, 1:-1, 0], pixels[:, 1:-1, -1]], axis=1
    )
    background = np.median(border, axis=1)[:, None, None, :]
    distance = np.linalg.norm(pixels - background, axis=-1)
    # The floor keeps a blank, slightly noisy image from having its noise blown up to 1.
    scale = np.maximum(np.quantile(distance.reshape(len(images), -1), 0.99, axis=1), 0.05)
    return np.clip(distance / scale[:, None, None], 0.0, 1.0)[:, None].astype(np.float32)


class ShapeNet(nn.Module):
    """Three conv stages (32 -> 16 -> 8 -> 4 px) and a small MLP head; ~90k weights."""

    def __init__(self, channels: Sequence[int] = (16, 32, 64), hidden: int = 64) -> None:
        super().__init__()
        c1, c2, c3 = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(c1, c1, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(c2, c2, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c2, c3, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c3 * (IMAGE_SIZE // 8) ** 2, hidden),
            nn.ReLU(),
            nn.Linear(hidden, len(SHAPES)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@dataclass(frozen=True)
class ShapeClassifier:
    """A loaded classifier: the network (eval mode) and the class names it predicts."""

    net: ShapeNet
    classes: tuple[str, ...]
    path: Path

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """`n x len(classes)` probabilities for `n x 32 x 32 x 3` uint8 images."""
        with torch.no_grad():
            logits = self.net(torch.from_numpy(shape_input(images)))
            return torch.softmax(logits, dim=1).numpy().astype(np.float64)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _load(directory: Path) -> ShapeClassifier:
    from safetensors.torch import load_file

    weights, config_path = directory / WEIGHTS_FILE, directory / CONFIG_FILE
    for path in (weights, config_path):
        if not path.is_file():
            raise DataCorrupt(
                f"shape classifier file {path} is missing; train it with "
                "`python benchmarks/shape_classifier.py --train`"
            )
    try:
        config = json.loads(config_path.read_text())
        classes = tuple(config["classes"])
        channels, hidden = config["channels"], config["hidden"]
        expected_sha = config["sha256"]
    except (ValueError, KeyError, TypeError) as error:
        raise DataCorrupt(
            f"shape classifier config {config_path} is unreadable ({error})"
        ) from None
    if config.get("architecture") != ARCHITECTURE or config.get("preprocessing") != PREPROCESSING:
        raise DataCorrupt(
            f"shape classifier config {config_path} is for another architecture "
            f"({config.get('architecture')!r}, {config.get('preprocessing')!r})"
        )
    # The checksum catches damage that leaves the file parseable (flipped weight bytes).
    if file_sha256(weights) != expected_sha:
        raise DataCorrupt(
            f"shape classifier weights {weights} are corrupt (SHA-256 differs from {config_path})"
        )
    try:
        net = ShapeNet(channels, hidden)
        net.load_state_dict(load_file(weights))
    except Exception as error:  # safetensors and torch raise several unrelated types
        raise DataCorrupt(f"shape classifier weights {weights} are unreadable ({error})") from None
    if classes != SHAPES:
        raise DataCorrupt(f"shape classifier {config_path} predicts {classes}, not {SHAPES}")
    net.eval()
    return ShapeClassifier(net, classes, directory)


_cache: dict[Path, ShapeClassifier] = {}
_cache_lock = threading.Lock()


def load_shape_classifier(directory: str | Path | None = None) -> ShapeClassifier:
    """The classifier in `directory` (default: the shipped one), loaded once and cached.
    A missing or damaged file raises DataCorrupt naming it."""
    path = Path(directory).resolve() if directory is not None else DEFAULT_WEIGHTS_DIR
    with _cache_lock:  # the worker thread and a Dash callback may ask at the same time
        if path not in _cache:
            _cache[path] = _load(path)
        return _cache[path]


def _to_batch(images: ImageLike | Sequence[ImageLike]) -> np.ndarray:
    """`n x 32 x 32 x 3` uint8 from one image, a list of images, or an `n x H x W x 3` array."""
    if isinstance(images, np.ndarray) and images.ndim == 4:
        images = list(images)
    elif isinstance(images, Image.Image | np.ndarray):
        images = [images]
    if len(images) == 0:
        raise InvalidInput("shape_probabilities needs at least one image")
    batch = []
    for image in images:
        array = as_rgb_array(image)
        if array.shape[:2] != (IMAGE_SIZE, IMAGE_SIZE):
            # Area averaging, like the procedural world's own 4x supersampling.
            resized = Image.fromarray(array).resize((IMAGE_SIZE, IMAGE_SIZE), Image.BOX)
            array = np.asarray(resized)
        batch.append(array)
    return np.stack(batch)


def shape_probabilities(
    images: ImageLike | Sequence[ImageLike], weights_dir: str | Path | None = None
) -> np.ndarray:
    """`n x 6` probabilities of each shape (columns in `world.SHAPES` order); images of any
    size are resized to 32 x 32."""
    return load_shape_classifier(weights_dir).probabilities(_to_batch(images))


def classify_shape(image: ImageLike, weights_dir: str | Path | None = None) -> tuple[str, float]:
    """The most likely shape and its probability (0-1)."""
    probabilities = shape_probabilities([image], weights_dir)[0]
    best = int(np.argmax(probabilities))
    return SHAPES[best], float(probabilities[best])


def shape_faithfulness(
    image: ImageLike, expected_shape: str, weights_dir: str | Path | None = None
) -> float:
    """The classifier's probability of `expected_shape`, as 0-100."""
    if expected_shape not in SHAPES:
        raise InvalidInput(f"expected_shape must be one of {SHAPES} (got {expected_shape!r})")
    probabilities = shape_probabilities([image], weights_dir)[0]
    return float(100.0 * probabilities[SHAPES.index(expected_shape)])
