"""Colour metrics: CIELAB, CIEDE2000, dominant colours, region colour accuracy and purity."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike
from PIL import Image
from scipy import ndimage

from steering_core.builtin.world import COLOURS, hex_to_rgb
from steering_core.errors import InvalidInput

ImageLike = Image.Image | np.ndarray
RGB = tuple[int, int, int]

# sRGB (IEC 61966-2-1) linear RGB -> XYZ, D65. The white point is taken as the matrix's row
# sums so that #ffffff maps to exactly L=100, a=b=0 (the rounded published white point is
# off by ~1e-4, which would give white a tiny b*).
_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_WHITE = _RGB_TO_XYZ.sum(axis=1)
_EPSILON = (6 / 29) ** 3

# Mapping from colour difference to a 0-100 score: 100 at ΔE2000 = 0, minus 2 points per
# unit, 0 from ΔE2000 = 50 on. A ΔE of ~2 is barely visible (score ~96); the closest two
# named colours (white/grey, orange/brown) are ~20 apart (score ~60); clearly different
# hues are 30-80 apart (score <= 40).
SCORE_POINTS_PER_DELTA_E = 2.0
# Purity: 100 minus 4 points per unit of mean ΔE2000 from the region's mean colour, 0 from a
# mean of 25 on. Noise of std 3/255 costs ~4 points, std 10/255 ~13; two tones in one region
# (blue and teal halves) cost ~85.
PURITY_POINTS_PER_DELTA_E = 4.0
# A pixel at least this far (ΔE2000) from the background estimate may belong to the shape.
# About half the smallest distance between two named colours (20.3), above mild noise.
FOREGROUND_DELTA_E = 10.0
# Fewer shape pixels than this fraction of the image means "no shape was drawn".
MIN_FOREGROUND_FRACTION = 0.01


def as_rgb_array(image: ImageLike) -> np.ndarray:
    """An `H x W x 3` uint8 array from a PIL image or an array (uint8, or float in [0, 1])."""
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"), dtype=np.uint8)
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[2] not in (3, 4) or min(array.shape[:2]) < 1:
        raise InvalidInput(f"an image must be H x W x 3 (got an array of shape {array.shape})")
    array = array[..., :3]  # an alpha channel says nothing about colour
    if array.dtype == np.uint8:
        return array
    if np.issubdtype(array.dtype, np.floating):
        return np.clip(np.round(array * 255.0), 0, 255).astype(np.uint8)
    if np.issubdtype(array.dtype, np.integer):
        return np.clip(array, 0, 255).astype(np.uint8)
    raise InvalidInput(f"image arrays must be uint8 or float (got {array.dtype})")


def srgb_to_lab(rgb: ArrayLike) -> np.ndarray:
    """CIELAB (D65) of sRGB colours given as 0-255 values in an array ending in 3 channels."""
    values = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _RGB_TO_XYZ.T / _WHITE
    f = np.where(xyz > _EPSILON, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    lightness = 116.0 * f[..., 1] - 16.0
    a = 500.0 * (f[..., 0] - f[..., 1])
    b = 200.0 * (f[..., 1] - f[..., 2])
    return np.stack([lightness, a, b], axis=-1)


def ciede2000(
    lab1: ArrayLike, lab2: ArrayLike, k_l: float = 1.0, k_c: float = 1.0, k_h: float = 1.0
) -> np.ndarray:
    """CIEDE2000 colour difference of Lab colours (broadcasting), after Sharma, Wu, Dalal 2005."""
    lab1 = np.asarray(lab1, dtype=np.float64)
    lab2 = np.asarray(lab2, dtype=np.float64)
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]

    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean**7 / (c_mean**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    chroma_product = c1p * c2p
    achromatic = chroma_product == 0  # hue is undefined for a grey; the formula sets it to 0

    delta_l = l2 - l1
    delta_c = c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(achromatic, 0.0, dh)
    delta_h = 2 * np.sqrt(chroma_product) * np.sin(np.radians(dh) / 2)

    l_mean = (l1 + l2) / 2
    cp_mean = (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_mean = np.where(
        np.abs(h1p - h2p) <= 180,
        h_sum / 2,
        np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2),
    )
    h_mean = np.where(achromatic, h_sum, h_mean)

    t = (
        1
        - 0.17 * np.cos(np.radians(h_mean - 30))
        + 0.24 * np.cos(np.radians(2 * h_mean))
        + 0.32 * np.cos(np.radians(3 * h_mean + 6))
        - 0.20 * np.cos(np.radians(4 * h_mean - 63))
    )
    delta_theta = 30 * np.exp(-(((h_mean - 275) / 25) ** 2))
    r_c = 2 * np.sqrt(cp_mean**7 / (cp_mean**7 + 25.0**7))
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    s_c = 1 + 0.045 * cp_mean
    s_h = 1 + 0.015 * cp_mean * t
    r_t = -np.sin(np.radians(2 * delta_theta)) * r_c

    term_l = delta_l / (k_l * s_l)
    term_c = delta_c / (k_c * s_c)
    term_h = delta_h / (k_h * s_h)
    squared = term_l**2 + term_c**2 + term_h**2 + r_t * term_c * term_h
    return np.sqrt(np.maximum(squared, 0.0))


def colour_to_rgb(colour: str | Sequence[int]) -> RGB:
    """An RGB triple from a hex code ("#e6194b"), a named colour ("red") or a triple."""
    if isinstance(colour, str):
        code = COLOURS.get(colour.strip().lower(), colour.strip())
        digits = code.lstrip("#")
        if len(digits) != 6 or any(c not in "0123456789abcdefABCDEF" for c in digits):
            raise InvalidInput(
                f"colour must be a hex code like '#e6194b' or one of {sorted(COLOURS)} "
                f"(got {colour!r})"
            )
        return hex_to_rgb(digits)
    values = tuple(round(float(v)) for v in colour)
    if len(values) != 3 or not all(0 <= v <= 255 for v in values):
        raise InvalidInput(f"an RGB colour needs three values in 0-255 (got {colour!r})")
    return values  # type: ignore[return-value]


@lru_cache(maxsize=1)
def _named_labs() -> tuple[tuple[str, ...], np.ndarray]:
    names = tuple(COLOURS)
    return names, srgb_to_lab(np.array([hex_to_rgb(COLOURS[n]) for n in names]))


def nearest_colour_name(rgb: str | Sequence[int]) -> str:
    """The named colour of the procedural world closest (by ΔE2000) to `rgb`."""
    names, labs = _named_labs()
    distances = ciede2000(srgb_to_lab(colour_to_rgb(rgb)), labs)
    return names[int(np.argmin(distances))]


def delta_e_to_score(delta_e: float) -> float:
    """0-100 colour score: 100 at ΔE2000 = 0, 2 points less per unit, 0 from ΔE = 50."""
    return float(max(0.0, 100.0 - SCORE_POINTS_PER_DELTA_E * delta_e))


def _kmeans(pixels: np.ndarray, k: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """Cluster centres (RGB floats) and per-pixel labels; k is capped at the distinct colours."""
    from sklearn.cluster import KMeans  # imported here: it costs ~0.5 s and few callers need it
    from threadpoolctl import threadpool_limits

    distinct = np.unique(pixels, axis=0)
    k = max(1, min(k, len(distinct)))
    if k == 1:
        return pixels.mean(axis=0, keepdims=True), np.zeros(len(pixels), dtype=np.int64)
    # Fit on at most 4096 pixels (fixed subsample) so large images stay fast; label all of them.
    rng = np.random.default_rng(random_state)
    sample = pixels if len(pixels) <= 4096 else pixels[rng.choice(len(pixels), 4096, False)]
    model = KMeans(n_clusters=k, n_init=3, random_state=random_state)
    # One thread: on a few hundred pixels OpenMP start-up costs 10x the work itself.
    with threadpool_limits(1), warnings.catch_warnings():
        # A subsample can hold fewer distinct colours than k; KMeans then warns and copes.
        warnings.simplefilter("ignore")
        model.fit(sample)
        labels = model.predict(pixels)
    centres = np.stack(
        [
            pixels[labels == i].mean(axis=0) if np.any(labels == i) else model.cluster_centers_[i]
            for i in range(k)
        ]
    )
    return centres, labels


def dominant_colours(
    image: ImageLike, k: int = 3, random_state: int = 0
) -> list[tuple[RGB, float]]:
    """The image's `k` main colours (k-means on RGB pixels) with their pixel fractions,
    largest first. Fewer than `k` are returned when the image has fewer distinct colours."""
    if k < 1:
        raise InvalidInput(f"k must be at least 1 (got {k})")
    pixels = as_rgb_array(image).reshape(-1, 3).astype(np.float64)
    centres, labels = _kmeans(pixels, k, random_state)
    counts = np.bincount(labels, minlength=len(centres))
    order = np.argsort(-counts, kind="stable")
    return [
        (
            tuple(int(v) for v in np.clip(np.round(centres[i]), 0, 255)),  # type: ignore[misc]
            float(counts[i] / len(pixels)),
        )
        for i in order
        if counts[i] > 0
    ]


def _main_colour(pixels: np.ndarray, random_state: int = 0) -> np.ndarray:
    """The main colour of a set of RGB pixels: the largest k-means cluster (k <= 3), refined
    as the median of every pixel within FOREGROUND_DELTA_E of it, so that noise does not bias
    it towards one side (a cluster's mean would) and stray pixels do not pull it."""
    centres, labels = _kmeans(pixels, 3, random_state)
    centre = centres[np.argmax(np.bincount(labels, minlength=len(centres)))]
    near = ciede2000(srgb_to_lab(pixels), srgb_to_lab(centre)) < FOREGROUND_DELTA_E
    return np.median(pixels[near], axis=0) if np.any(near) else centre


def _border(height: int, width: int) -> np.ndarray:
    """Mask of the outer ring: 1 pixel at 32 px, scaled with the image (16 px at 512)."""
    ring = max(1, min(height, width) // 32)
    mask = np.ones((height, width), dtype=bool)
    mask[ring:-ring, ring:-ring] = False
    return mask


@dataclass(frozen=True, eq=False)  # arrays inside: compare by identity
class Regions:
    """An image split into background and foreground (the shape) from the image alone."""

    lab: np.ndarray  # H x W x 3
    background_rgb: np.ndarray  # float RGB estimate
    foreground_rgb: np.ndarray | None  # None when no shape was found
    foreground: np.ndarray  # H x W bool
    boundary: np.ndarray  # H x W bool: pixels next to the background/foreground edge

    @property
    def foreground_fraction(self) -> float:
        return float(self.foreground.mean())


def segment(image: ImageLike, random_state: int = 0) -> Regions:
    """Background = main colour of the border ring; foreground = pixels nearer the shape's
    colour than the background's and at least FOREGROUND_DELTA_E from the background."""
    rgb = as_rgb_array(image)
    height, width = rgb.shape[:2]
    pixels = rgb.astype(np.float64)
    lab = srgb_to_lab(pixels)
    background = _main_colour(pixels[_border(height, width)], random_state)
    to_background = ciede2000(lab, srgb_to_lab(background))
    candidates = to_background > FOREGROUND_DELTA_E
    min_pixels = max(1, int(np.ceil(MIN_FOREGROUND_FRACTION * height * width)))
    if candidates.sum() < min_pixels:
        empty = np.zeros((height, width), dtype=bool)
        return Regions(lab, background, None, empty, empty)
    # The shape's colour from its inside: anti-aliased edge pixels mix in the background.
    core = ndimage.binary_erosion(candidates)
    core = core if core.sum() >= min_pixels else candidates
    foreground_rgb = _main_colour(pixels[core], random_state)
    # Each pixel goes to the nearer of the two colours, so the edge falls at 50% coverage.
    to_foreground = ciede2000(lab, srgb_to_lab(foreground_rgb))
    foreground = candidates & (to_foreground < to_background)
    # Edge pixels: 4-neighbours of the other region (8-neighbours would swallow a thin
    # ring whole). Outside the image counts as background: a shape cut by the edge has one.
    cross = ndimage.generate_binary_structure(2, 1)
    boundary = ndimage.binary_dilation(foreground, cross) & ndimage.binary_dilation(
        ~foreground, cross, border_value=1
    )
    return Regions(lab, background, foreground_rgb, foreground, boundary)


@dataclass(frozen=True)
class ColourScores:
    """How well an image's background and foreground colours match the expected ones."""

    background: float  # 0-100 (see delta_e_to_score)
    foreground: float  # 0-100; 0 when no shape was found
    background_correct: bool  # nearest named colour of the region is the expected one
    foreground_correct: bool
    background_delta_e: float  # ΔE2000 between the region's colour and the expected one
    foreground_delta_e: float  # inf when no shape was found
    background_rgb: RGB  # the region's measured colour
    foreground_rgb: RGB | None
    background_name: str  # nearest named colour of the measured colour
    foreground_name: str | None
    foreground_fraction: float  # share of the image's pixels in the foreground region


def _to_rgb_tuple(values: np.ndarray) -> RGB:
    return tuple(int(v) for v in np.clip(np.round(values), 0, 255))  # type: ignore[return-value]


def colour_scores(
    image: ImageLike, background_hex: str, foreground_hex: str, random_state: int = 0
) -> ColourScores:
    """Score the background and the foreground (shape) colours of `image` against the expected
    hex codes (or colour names). Regions come from the image itself (see `segment`)."""
    expected_bg = colour_to_rgb(background_hex)
    expected_fg = colour_to_rgb(foreground_hex)
    regions = segment(image, random_state)
    background_delta = float(
        ciede2000(srgb_to_lab(regions.background_rgb), srgb_to_lab(expected_bg))
    )
    background_name = nearest_colour_name(_to_rgb_tuple(regions.background_rgb))
    if regions.foreground_rgb is None:
        # No shape: the foreground cannot be right, however close some stray pixel might be.
        foreground_delta, foreground_rgb, foreground_name = float("inf"), None, None
    else:
        foreground_rgb = _to_rgb_tuple(regions.foreground_rgb)
        foreground_delta = float(
            ciede2000(srgb_to_lab(regions.foreground_rgb), srgb_to_lab(expected_fg))
        )
        foreground_name = nearest_colour_name(foreground_rgb)
    return ColourScores(
        background=delta_e_to_score(background_delta),
        foreground=0.0 if foreground_rgb is None else delta_e_to_score(foreground_delta),
        background_correct=background_name == nearest_colour_name(expected_bg),
        foreground_correct=foreground_name == nearest_colour_name(expected_fg),
        background_delta_e=background_delta,
        foreground_delta_e=foreground_delta,
        background_rgb=_to_rgb_tuple(regions.background_rgb),
        foreground_rgb=foreground_rgb,
        background_name=background_name,
        foreground_name=foreground_name,
        foreground_fraction=regions.foreground_fraction,
    )


def _region_purity(lab: np.ndarray) -> tuple[float, float]:
    """(purity 0-100, mean ΔE2000 of the pixels to their mean colour)."""
    mean_delta = float(ciede2000(lab, lab.mean(axis=0)).mean())
    return max(0.0, 100.0 - PURITY_POINTS_PER_DELTA_E * mean_delta), mean_delta


def colour_purity(image: ImageLike, random_state: int = 0) -> dict[str, float]:
    """How solid each region is: 100 = one flat colour, lower = noisy or multi-toned.

    Per region (background, foreground), the mean ΔE2000 of its pixels to the region's mean
    Lab colour, mapped to 100 - 4 * mean ΔE (0 from 25 on). Pixels on the edge between the
    regions are left out (anti-aliasing mixes the two colours there by design). "overall" is
    the pixel-weighted mean of the regions. A missing shape has foreground purity 0.
    Keys: background, foreground, overall, background_delta_e, foreground_delta_e.
    """
    regions = segment(image, random_state)
    lab = regions.lab
    inner_background = ~regions.foreground & ~regions.boundary
    if not inner_background.any():  # a shape filling the image: keep every background pixel
        inner_background = ~regions.foreground
    inner_foreground = regions.foreground & ~regions.boundary
    if regions.foreground.any() and not inner_foreground.any():
        inner_foreground = regions.foreground
    result: dict[str, float] = {}
    weights: list[tuple[float, int]] = []
    for name, mask in (("background", inner_background), ("foreground", inner_foreground)):
        if mask.any():
            purity, mean_delta = _region_purity(lab[mask])
            weights.append((purity, int(mask.sum())))
        else:
            purity, mean_delta = 0.0, float("inf")
        result[name] = purity
        result[f"{name}_delta_e"] = mean_delta
    total = sum(count for _, count in weights)
    result["overall"] = sum(purity * count for purity, count in weights) / total
    return result
