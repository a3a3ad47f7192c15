"""Quality-diversity: fixed cells, one elite each, mutations from distinct cells, empty cells."""

from __future__ import annotations

import numpy as np
import pytest

from steering_core.models.bradley_terry import BradleyTerryModel
from steering_core.samplers.base import SamplerHistory
from steering_core.samplers.quality_diversity import (
    QualityDiversitySampler,
    cell_centroids,
    nearest_cell,
)
from tests.steering_core.samplers.contract import check_sampler


def test_the_contract() -> None:
    check_sampler(QualityDiversitySampler)


def spread_session(d: int = 4) -> tuple[SamplerHistory, BradleyTerryModel]:
    """Shown points all over the archive, and a model fitted on comparisons won by +x."""
    rng = np.random.default_rng(3)
    shown = rng.normal(scale=0.4, size=(60, d))
    utility = shown[:, 0] - 0.5 * (shown**2).sum(axis=1)
    order = np.argsort(-utility)
    pairs = np.array([[order[i], order[j]] for i in range(0, 60, 3) for j in (i + 1, i + 2)])
    model = BradleyTerryModel().fit(shown, pairs)
    history = SamplerHistory(
        incumbent=shown[order[0]], shown=shown, round_index=20, trust_radius=0.25
    )
    return history, model


def test_cells_depend_on_the_seed_and_dimension_only() -> None:
    a = cell_centroids(0, 5, 32)
    np.testing.assert_array_equal(a, cell_centroids(0, 5, 32))
    assert not np.array_equal(a, cell_centroids(1, 5, 32))
    assert a.shape == (32, 5)
    assert np.all(np.linalg.norm(a, axis=1) <= 1)
    history, model = spread_session()
    cells = {
        QualityDiversitySampler()
        .propose(history, model, 8, np.random.default_rng(seed))
        .metadata[0]["cell"]
        for seed in range(5)
    }
    assert len(cells) == 1


def test_mutations_come_from_the_elites_of_distinct_cells() -> None:
    history, model = spread_session()
    sampler = QualityDiversitySampler()
    proposal = sampler.propose(history, model, 10, np.random.default_rng(0))
    new = proposal.metadata[1:]
    cells = [meta["cell"] for meta in new]
    assert len(set(cells)) == len(cells)
    mutated = [
        meta for meta, role in zip(new, proposal.roles[1:], strict=True) if role == "exploit"
    ]
    assert len(mutated) >= 5
    centroids = sampler.centroids(history)
    shown_cells = nearest_cell(history.shown, centroids)
    shown_mean, _ = model.predict(history.shown)
    for meta in mutated:
        # The elite is the shown point the model rates highest in its cell.
        in_cell = shown_cells == meta["cell"]
        elite = history.shown[in_cell][np.argmax(shown_mean[in_cell])]
        np.testing.assert_allclose(meta["elite"], elite)
    # The elites are ranked by predicted utility, so the first mutates the best of them.
    assert [meta["elite_rank"] for meta in mutated] == list(range(1, len(mutated) + 1))
    utilities = [meta["predicted_utility"] for meta in proposal.metadata]
    assert max(utilities[1:]) > utilities[0]


def test_exploration_lands_in_empty_cells() -> None:
    history, model = spread_session()
    sampler = QualityDiversitySampler(n_cells=256, explore_fraction=0.5)
    proposal = sampler.propose(history, model, 9, np.random.default_rng(0))
    centroids = sampler.centroids(history)
    occupied = set(nearest_cell(history.shown, centroids).tolist())
    explored = [i for i, role in enumerate(proposal.roles) if role == "explore"]
    assert len(explored) == 4
    for slot in explored:
        cell = proposal.metadata[slot]["cell"]
        assert cell not in occupied
        assert nearest_cell(proposal.vectors[slot][None], centroids)[0] == cell


def test_without_a_model_the_researchers_picks_are_the_elites() -> None:
    path = np.array([[0.0, 0.0], [0.3, 0.0], [0.3, 0.3]])
    history = SamplerHistory(
        incumbent=path[-1], shown=path, round_index=3, trust_radius=0.25, incumbent_path=path
    )
    proposal = QualityDiversitySampler().propose(history, None, 8, np.random.default_rng(0))
    assert proposal.metadata[1]["elite"] == [0.3, 0.3]
    assert "explore" in proposal.roles


@pytest.mark.parametrize(
    "params",
    [
        {"n_cells": 1},
        {"archive_seed": -1},
        {"archive_radius": 0},
        {"mutation_scale": 0},
        {"offspring": 0},
        {"explore_fraction": 1.5},
    ],
)
def test_bad_parameters_are_refused(params: dict) -> None:
    name = next(iter(params))
    with pytest.raises(ValueError, match=name):
        QualityDiversitySampler(**params)
