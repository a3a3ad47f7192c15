"""Gallery plane: a coherent 2-D slice through the incumbent, facing the predicted best."""

from __future__ import annotations

import numpy as np
import pytest

from steering_core.samplers.base import SamplerHistory
from steering_core.samplers.gallery import GalleryPlaneSampler, gallery_layout
from tests.steering_core.samplers.contract import check_sampler
from tests.steering_core.samplers.test_eubo import preferring_plus_x


def test_the_contract() -> None:
    check_sampler(GalleryPlaneSampler)


@pytest.mark.parametrize("n", [1, 2, 7, 8, 9, 24, 31])
@pytest.mark.parametrize("plane", [True, False])
def test_the_layout_is_distinct_and_within_the_unit_disc(n: int, plane: bool) -> None:
    cells = gallery_layout(n, plane)
    assert cells.shape == (n, 2)
    assert len({tuple(cell) for cell in cells}) == n
    assert np.all(np.linalg.norm(cells, axis=1) <= 1 + 1e-12)
    assert np.all(np.linalg.norm(cells, axis=1) > 0)
    assert cells[0, 0] > 0  # the first new candidate faces the predicted best


def test_eight_candidates_make_a_three_by_three_gallery() -> None:
    cells = gallery_layout(7)  # k = 8: the incumbent in the middle of a 3 x 3 grid, one left
    assert len(cells) == 7
    grid = {(round(u * np.sqrt(2)), round(v * np.sqrt(2))) for u, v in gallery_layout(8)}
    assert grid == {(i, j) for i in (-1, 0, 1) for j in (-1, 0, 1)} - {(0, 0)}


def test_candidates_are_coplanar_with_the_incumbent_and_face_the_predicted_best() -> None:
    X, model = preferring_plus_x(d=8)
    incumbent = np.full(8, 0.05)
    history = SamplerHistory(incumbent=incumbent, shown=X, round_index=1, trust_radius=0.25)
    proposal = GalleryPlaneSampler().propose(history, model, 16, np.random.default_rng(0))
    offsets = proposal.vectors - incumbent
    assert np.linalg.matrix_rank(offsets, tol=1e-9) == 2
    assert np.all(np.linalg.norm(offsets, axis=1) <= 0.25 + 1e-12)

    plane = proposal.metadata[0]
    basis = np.array([plane["basis_u"], plane["basis_v"]])
    np.testing.assert_allclose(basis @ basis.T, np.eye(2), atol=1e-12)
    assert plane["direction_from"] == "model"
    assert basis[0, 0] > 0.5  # toward +x, where the comparisons point
    for vector, meta in zip(proposal.vectors, proposal.metadata, strict=True):
        np.testing.assert_allclose(vector, incumbent + [meta["u"], meta["v"]] @ basis)
    utilities = [meta["predicted_utility"] for meta in proposal.metadata]
    assert max(utilities[1:]) > utilities[0]


def test_without_evidence_the_plane_follows_the_last_move() -> None:
    path = np.array([[0.0, 0.0, 0.0], [0.1, 0.0, 0.0], [0.1, 0.1, 0.0], [0.1, 0.1, 0.0]])
    history = SamplerHistory(
        incumbent=path[-1], shown=path, round_index=3, trust_radius=0.2, incumbent_path=path
    )
    proposal = GalleryPlaneSampler().propose(history, None, 8, np.random.default_rng(0))
    np.testing.assert_allclose(proposal.metadata[0]["basis_u"], [0.0, 1.0, 0.0])
    assert proposal.metadata[0]["direction_from"] == "last_move"


@pytest.mark.parametrize("k", [2, 3, 8, 32])
def test_one_dimension_lays_the_gallery_on_a_line(k: int) -> None:
    history = SamplerHistory(
        incumbent=np.array([0.1]), shown=np.zeros((1, 1)), round_index=1, trust_radius=0.25
    )
    proposal = GalleryPlaneSampler().propose(history, None, k, np.random.default_rng(0))
    assert proposal.vectors.shape == (k, 1)
    assert len(set(proposal.vectors[:, 0])) == k
    assert np.all(np.abs(proposal.vectors[:, 0] - 0.1) <= 0.25 + 1e-12)
    assert proposal.metadata[0]["basis_v"] is None


@pytest.mark.parametrize("params", [{"extent": 0}, {"pool_radius": 0}, {"pool_size": 0}])
def test_bad_parameters_are_refused(params: dict) -> None:
    name = next(iter(params))
    with pytest.raises(ValueError, match=name):
        GalleryPlaneSampler(**params)
