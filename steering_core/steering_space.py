"""The steering space: a `D x d` orthonormal basis in the generator's conditioning space.

A steering vector `w` (length `d`) moves the prompt's conditioning `c0` to
`c0 + |c0| * B @ w`, so a radius means "relative change of the conditioning" on any model.
The basis acts on the flattened conditioning (all prompt tokens, plus the pooled embedding of
SDXL-style models); see docs/DECISIONS.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from steering_core.config import BasisConfig
from steering_core.errors import InvalidInput
from steering_core.generators.base import Conditioning

# Style words whose prompt variations span the PCA basis when none are given.
DEFAULT_VARIATIONS = (
    "bright",
    "dark",
    "vivid colours",
    "muted colours",
    "large",
    "small",
    "centered",
    "off-center",
    "detailed",
    "minimal",
    "soft light",
    "hard light",
    "warm tones",
    "cool tones",
    "close-up",
    "wide shot",
    "high contrast",
    "low contrast",
    "smooth",
    "textured",
    "photograph",
    "painting",
    "sketch",
    "cartoon",
)

EncodeFn = Callable[[str], np.ndarray]


@dataclass(frozen=True)
class SteeringSpace:
    """Maps `n x d` steering vectors to conditionings around the prompt's conditioning.

    `basis`: a `D x d` array with orthonormal columns; `origin`: the flattened prompt
    conditioning `c0` (length `D`); `scale`: `|c0|`.
    """

    basis: np.ndarray
    origin: np.ndarray
    scale: float

    @property
    def d(self) -> int:
        return int(self.basis.shape[1])

    def offsets(self, steering_vectors: np.ndarray) -> np.ndarray:
        """`steering_vectors`: `n x d` -> conditioning offsets `n x D` scaled by `|c0|`."""
        steering_vectors = np.atleast_2d(np.asarray(steering_vectors, dtype=np.float64))
        if steering_vectors.shape[1] != self.d:
            raise InvalidInput(
                f"steering vectors have {steering_vectors.shape[1]} dimensions, "
                f"the steering space has {self.d}"
            )
        return self.scale * steering_vectors @ self.basis.T

    def conditionings(self, base: Conditioning, steering_vectors: np.ndarray) -> list[Conditioning]:
        """One steered copy of `base` per row of the `n x d` `steering_vectors`."""
        offsets = self.offsets(steering_vectors)
        return [base.with_steerable_vector(self.origin + offset) for offset in offsets]

    def project(self, conditioning_vector: np.ndarray) -> np.ndarray:
        """The steering vector (length `d`) nearest to a flattened conditioning."""
        return self.basis.T @ (conditioning_vector - self.origin) / self.scale


def random_orthogonal_basis(dimension: int, d: int, seed: int) -> np.ndarray:
    """A seeded `dimension x d` basis with orthonormal columns (QR of a Gaussian matrix)."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((dimension, d)))
    return q


def _complete_basis(directions: np.ndarray, d: int, seed: int) -> np.ndarray:
    """Orthonormalize `directions` (`m x D`) and fill up to `d` columns with random ones."""
    dimension = directions.shape[1]
    q, r = np.linalg.qr(directions.T) if len(directions) else (np.zeros((dimension, 0)), None)
    if r is not None:
        # Drop directions that were (nearly) linear combinations of earlier ones.
        keep = np.abs(np.diag(r)) > 1e-8 * max(1.0, float(np.abs(r).max()))
        q = q[:, keep]
    q = q[:, :d]
    missing = d - q.shape[1]
    if missing > 0:
        filler = random_orthogonal_basis(dimension, missing, seed)
        filler -= q @ (q.T @ filler)
        filler, _ = np.linalg.qr(filler)
        q = np.hstack([q, filler])
    return q


def _with_word(prompt: str, word: str, other: str) -> str:
    """The prompt saying `word`: swap `other` for it if present, else append it."""
    pattern = re.compile(rf"\b{re.escape(other)}\b", flags=re.IGNORECASE)
    if pattern.search(prompt):
        return pattern.sub(word, prompt)
    if re.search(rf"\b{re.escape(word)}\b", prompt, flags=re.IGNORECASE):
        return prompt
    return f"{prompt}, {word}"


def pca_basis(
    prompt: str, origin: np.ndarray, encode: EncodeFn, d: int, seed: int, variations: Sequence[str]
) -> np.ndarray:
    """Principal directions of how prompt variations move the conditioning."""
    texts = [v if "{prompt}" not in v else v.format(prompt=prompt) for v in variations]
    texts = [t if prompt in t else f"{prompt}, {t}" for t in texts]
    differences = np.stack([encode(text) - origin for text in texts])
    differences -= differences.mean(axis=0, keepdims=True)
    _, _, vt = np.linalg.svd(differences, full_matrices=False)
    return _complete_basis(vt[: min(d, len(vt))], d, seed)


def attribute_basis(
    prompt: str, encode: EncodeFn, d: int, seed: int, pairs: Sequence[tuple[str, str]]
) -> np.ndarray:
    """Axes from word pairs: axis i points from the first word of pair i toward the second."""
    directions = []
    for first, second in pairs:
        toward = encode(_with_word(prompt, second, first))
        away = encode(_with_word(prompt, first, second))
        directions.append(toward - away)
    if len(pairs) > d:
        raise InvalidInput(f"basis.pairs: {len(pairs)} word pairs for d={d}; at most d allowed")
    return _complete_basis(np.stack(directions), d, seed)


def build_steering_space(
    prompt: str, base: Conditioning, basis: BasisConfig, d: int, seed: int, encode: EncodeFn
) -> SteeringSpace:
    """Build the session's steering space around the prompt's conditioning `base`."""
    origin = base.steerable_vector()
    scale = float(np.linalg.norm(origin)) or 1.0
    if basis.kind == "random_orthogonal":
        matrix = random_orthogonal_basis(origin.size, d, seed)
    elif basis.kind == "pca":
        matrix = pca_basis(prompt, origin, encode, d, seed, basis.variations or DEFAULT_VARIATIONS)
    else:
        matrix = attribute_basis(prompt, encode, d, seed, basis.pairs)
    return SteeringSpace(basis=matrix, origin=origin, scale=scale)
