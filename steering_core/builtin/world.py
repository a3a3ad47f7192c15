"""The procedural world of the built-in model: a coloured shape on a coloured background.

Every scene is drawn exactly from its attributes, so images can be scored exactly (see
`steering_core.metrics`), and every caption is one of many wordings of the same scene, so the
model learns language rather than one template. Deterministic from a seed; nothing stored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

# Named colours with their hex codes; chosen to be far apart in CIELAB.
COLOURS: dict[str, str] = {
    "red": "#e6194b",
    "green": "#3cb44b",
    "yellow": "#ffe119",
    "blue": "#4363d8",
    "orange": "#f58231",
    "purple": "#911eb4",
    "cyan": "#42d4f4",
    "magenta": "#f032e6",
    "white": "#ffffff",
    "black": "#000000",
    "brown": "#9a6324",
    "pink": "#fabed4",
    "teal": "#469990",
    "grey": "#a9a9a9",
}
SHAPES = ("circle", "square", "triangle", "ring", "star", "cross")
SHAPE_WORDS: dict[str, tuple[str, ...]] = {
    "circle": ("circle", "disc", "round dot"),
    "square": ("square", "box", "block"),
    "triangle": ("triangle", "pyramid shape", "wedge"),
    "ring": ("ring", "donut", "hoop"),
    "star": ("star", "five-pointed star", "starburst"),
    "cross": ("cross", "plus sign", "plus"),
}
SIZES: dict[str, float] = {"small": 0.38, "medium": 0.55, "large": 0.75}  # of the image width
# Direction of the shape's offset from the center; the offset shrinks for large shapes so
# that every shape stays whole inside the image.
POSITIONS: dict[str, tuple[int, int]] = {
    "top left": (-1, -1),
    "top": (0, -1),
    "top right": (1, -1),
    "left": (-1, 0),
    "center": (0, 0),
    "right": (1, 0),
    "bottom left": (-1, 1),
    "bottom": (0, 1),
    "bottom right": (1, 1),
}
BACKGROUND_WORDS = ("background", "backdrop", "field", "canvas")
IMAGE_SIZE = 32


def hex_to_rgb(code: str) -> tuple[int, int, int]:
    code = code.lstrip("#")
    return int(code[0:2], 16), int(code[2:4], 16), int(code[4:6], 16)


@dataclass(frozen=True)
class Scene:
    """One image of the world: a `shape` of colour `foreground` on `background`."""

    shape: str
    foreground: str
    background: str
    size: str = "medium"
    position: str = "center"

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"shape must be one of {SHAPES} (got {self.shape!r})")
        for field, value in (("foreground", self.foreground), ("background", self.background)):
            if value not in COLOURS:
                raise ValueError(f"{field} must be a named colour (got {value!r})")
        if self.foreground == self.background:
            raise ValueError("foreground and background must differ")
        if self.size not in SIZES or self.position not in POSITIONS:
            raise ValueError(f"unknown size {self.size!r} or position {self.position!r}")


def sample_scene(rng: np.random.Generator) -> Scene:
    """A random scene; every attribute uniform."""
    names = list(COLOURS)
    foreground, background = rng.choice(len(names), size=2, replace=False)
    return Scene(
        shape=SHAPES[rng.integers(len(SHAPES))],
        foreground=names[foreground],
        background=names[background],
        size=list(SIZES)[rng.integers(len(SIZES))],
        position=list(POSITIONS)[rng.integers(len(POSITIONS))],
    )


def _star_points(cx: float, cy: float, outer: float, inner: float) -> list[tuple[float, float]]:
    points = []
    for i in range(10):
        angle = -np.pi / 2 + i * np.pi / 5
        radius = outer if i % 2 == 0 else inner
        points.append((cx + radius * np.cos(angle), cy + radius * np.sin(angle)))
    return points


def draw_shape_mask(shape: str, size: str, position: str, pixels: int = IMAGE_SIZE) -> np.ndarray:
    """The shape's coverage (0-1 per pixel), drawn at 4x and averaged down for smooth edges."""
    scale = 4
    canvas = pixels * scale
    mask = Image.new("L", (canvas, canvas), 0)
    draw = ImageDraw.Draw(mask)
    half = SIZES[size] * canvas / 2
    offset = min(0.2, 0.48 - SIZES[size] / 2) * canvas
    cx, cy = (canvas / 2 + direction * offset for direction in POSITIONS[position])
    box = (cx - half, cy - half, cx + half, cy + half)
    if shape == "circle":
        draw.ellipse(box, fill=255)
    elif shape == "square":
        inset = half * 0.15  # a square as large as the circle looks bigger; even them out
        draw.rectangle((box[0] + inset, box[1] + inset, box[2] - inset, box[3] - inset), fill=255)
    elif shape == "triangle":
        corners = [(cx, cy - half), (cx + half, cy + half * 0.8), (cx - half, cy + half * 0.8)]
        draw.polygon(corners, fill=255)
    elif shape == "ring":
        draw.ellipse(box, fill=255)
        hole = half * 0.55
        draw.ellipse((cx - hole, cy - hole, cx + hole, cy + hole), fill=0)
    elif shape == "star":
        draw.polygon(_star_points(cx, cy, half, half * 0.45), fill=255)
    elif shape == "cross":
        arm = half * 0.36
        draw.rectangle((cx - half, cy - arm, cx + half, cy + arm), fill=255)
        draw.rectangle((cx - arm, cy - half, cx + arm, cy + half), fill=255)
    coverage = np.asarray(mask, dtype=np.float32) / 255.0
    return coverage.reshape(pixels, scale, pixels, scale).mean(axis=(1, 3))


def render(scene: Scene, pixels: int = IMAGE_SIZE) -> np.ndarray:
    """The scene as a `pixels x pixels x 3` uint8 RGB array."""
    coverage = draw_shape_mask(scene.shape, scene.size, scene.position, pixels)[..., None]
    foreground = np.array(hex_to_rgb(COLOURS[scene.foreground]), dtype=np.float32)
    background = np.array(hex_to_rgb(COLOURS[scene.background]), dtype=np.float32)
    image = coverage * foreground + (1 - coverage) * background
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def caption(scene: Scene, rng: np.random.Generator) -> str:
    """One of many wordings of the scene; size and position are mentioned only sometimes."""
    shape = SHAPE_WORDS[scene.shape][rng.integers(len(SHAPE_WORDS[scene.shape]))]
    field = BACKGROUND_WORDS[rng.integers(len(BACKGROUND_WORDS))]
    fg, bg = scene.foreground, scene.background
    size = f"{scene.size} " if rng.random() < 0.4 else ""
    where = f" in the {scene.position}" if rng.random() < 0.3 else ""
    if scene.position == "center" and where:
        where = rng.choice([" in the center", " in the middle", " centered"])
    templates = (
        f"a {size}{fg} {shape}{where} on a {bg} {field}",
        f"{size}{fg} {shape} over a {bg} {field}{where}",
        f"a {bg} {field} with a {size}{fg} {shape}{where}",
        f"{size}{fg} {shape}{where}, {bg} {field}",
        f"a {size}{shape} coloured {fg} on {bg}{where}",
        f"{fg} {shape} on {bg}",
    )
    return templates[rng.integers(len(templates))].replace("  ", " ").strip()


def canonical_caption(scene: Scene) -> str:
    """The plain wording used by benchmarks and examples."""
    return f"a {scene.foreground} {scene.shape} on a {scene.background} background"


def training_batch(
    rng: np.random.Generator, batch_size: int, pixels: int = IMAGE_SIZE
) -> tuple[np.ndarray, list[str], list[Scene]]:
    """`batch_size x pixels x pixels x 3` uint8 images with one caption each."""
    scenes = [sample_scene(rng) for _ in range(batch_size)]
    images = np.stack([render(scene, pixels) for scene in scenes])
    return images, [caption(scene, rng) for scene in scenes], scenes
