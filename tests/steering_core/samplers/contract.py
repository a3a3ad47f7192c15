"""The contract every sampler must pass: shapes, roles, the re-shown incumbent, reproducibility."""

from __future__ import annotations

import numpy as np

from steering_core.models.bradley_terry import BradleyTerryModel
from steering_core.samplers.base import ROLES, SamplerHistory


def check_sampler(sampler_class: type) -> None:
    d, k = 4, 8
    incumbent = np.array([0.1, 0.0, -0.1, 0.05])
    history = SamplerHistory(
        incumbent=incumbent, shown=np.zeros((1, d)), round_index=2, trust_radius=0.25
    )
    X = np.random.default_rng(0).normal(scale=0.3, size=(20, d))
    pairs = np.array([[i, i + 1] for i in range(0, 19, 2)])
    model = BradleyTerryModel().fit(X, pairs)

    for fitted in (None, model):
        proposal = sampler_class().propose(history, fitted, k, np.random.default_rng(1))
        assert proposal.vectors.shape == (k, d)
        assert np.all(np.isfinite(proposal.vectors))
        assert len(proposal.roles) == len(proposal.metadata) == k
        assert set(proposal.roles) <= set(ROLES)
        # The incumbent is always re-shown, unchanged, in slot 0.
        assert proposal.roles[0] == "incumbent"
        np.testing.assert_array_equal(proposal.vectors[0], incumbent)
        # No duplicate candidates.
        assert len({v.tobytes() for v in proposal.vectors}) == k
        assert all("why" in meta for meta in proposal.metadata)

    # All randomness comes from the rng passed in.
    a = sampler_class().propose(history, model, k, np.random.default_rng(5))
    b = sampler_class().propose(history, model, k, np.random.default_rng(5))
    np.testing.assert_array_equal(a.vectors, b.vectors)
    c = sampler_class().propose(history, model, k, np.random.default_rng(6))
    assert not np.array_equal(a.vectors, c.vectors)
