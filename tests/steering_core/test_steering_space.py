"""Steering space: orthonormal bases of each kind, offsets scaled to the prompt's norm."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from steering_core.config import BasisConfig
from steering_core.errors import InvalidInput
from steering_core.generators.base import Conditioning
from steering_core.steering_space import build_steering_space, random_orthogonal_basis

DIMENSION = 5 * 8


def fake_encode(text: str) -> np.ndarray:
    """A deterministic stand-in encoder: each word adds its own fixed vector."""
    vector = np.zeros(DIMENSION)
    for word in text.replace(",", " ").split():
        seed = sum(ord(ch) * 31**i for i, ch in enumerate(word)) % 2**32
        vector += np.random.default_rng(seed).normal(size=DIMENSION)
    return vector


def base_conditioning(text: str = "a red circle") -> Conditioning:
    embeds = torch.tensor(fake_encode(text), dtype=torch.float32).reshape(1, 5, 8)
    return Conditioning(prompt_embeds=embeds, negative_prompt_embeds=torch.zeros(1, 5, 8))


def test_random_orthogonal_is_orthonormal_and_seeded() -> None:
    a = random_orthogonal_basis(DIMENSION, 6, seed=3)
    np.testing.assert_allclose(a.T @ a, np.eye(6), atol=1e-10)
    np.testing.assert_array_equal(a, random_orthogonal_basis(DIMENSION, 6, seed=3))
    assert not np.allclose(a, random_orthogonal_basis(DIMENSION, 6, seed=4))


@pytest.mark.parametrize(
    "basis",
    [
        BasisConfig(kind="random_orthogonal"),
        BasisConfig(kind="pca"),
        BasisConfig(kind="pca", variations=["bright", "dark"]),
        BasisConfig(kind="attribute", pairs=[("red", "blue"), ("circle", "square")]),
    ],
)
def test_every_basis_kind_is_orthonormal_with_d_columns(basis: BasisConfig) -> None:
    space = build_steering_space("a red circle", base_conditioning(), basis, 4, 0, fake_encode)
    assert space.basis.shape == (DIMENSION, 4)
    np.testing.assert_allclose(space.basis.T @ space.basis, np.eye(4), atol=1e-8)


def test_offsets_are_relative_to_the_prompt_norm() -> None:
    base = base_conditioning()
    space = build_steering_space("a red circle", base, BasisConfig(), 4, 0, fake_encode)
    w = np.array([[0.3, 0, 0, 0], [0, 0.1, 0.1, 0]])
    offsets = space.offsets(w)
    relative = np.linalg.norm(offsets, axis=1) / np.linalg.norm(base.steerable_vector())
    np.testing.assert_allclose(relative, np.linalg.norm(w, axis=1), rtol=1e-6)
    steered = space.conditionings(base, w)
    moved = steered[0].steerable_vector() - base.steerable_vector()
    np.testing.assert_allclose(moved, offsets[0], atol=1e-4)
    np.testing.assert_allclose(space.project(steered[1].steerable_vector()), w[1], atol=1e-5)


def test_attribute_axis_points_from_first_word_to_second() -> None:
    basis = BasisConfig(kind="attribute", pairs=[("red", "blue")])
    base = base_conditioning()
    space = build_steering_space("a red circle", base, basis, 2, 0, fake_encode)
    toward_blue = fake_encode("a blue circle") - fake_encode("a red circle")
    assert space.basis[:, 0] @ toward_blue > 0.99 * np.linalg.norm(toward_blue)


def test_too_many_pairs_for_d_is_refused() -> None:
    basis = BasisConfig(kind="attribute", pairs=[("red", "blue"), ("big", "small")])
    with pytest.raises(InvalidInput, match="at most d"):
        build_steering_space("a red circle", base_conditioning(), basis, 1, 0, fake_encode)


def test_wrong_vector_dimension_is_refused() -> None:
    space = build_steering_space("a", base_conditioning(), BasisConfig(), 4, 0, fake_encode)
    with pytest.raises(InvalidInput, match="3 dimensions"):
        space.offsets(np.zeros((2, 3)))
