"""The contract every preference model must pass (like scikit-learn's `check_estimator`)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from steering_core.models.base import NotFittedError


def anchor_comparisons(
    target: np.ndarray, n_points: int = 40, n_pairs: int = 150, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Points around the origin and noiseless comparisons by closeness to `target`."""
    rng = np.random.default_rng(seed)
    X = rng.normal(scale=0.3, size=(n_points, target.size))
    utility = -np.linalg.norm(X - target, axis=1)
    pairs = []
    for _ in range(n_pairs):
        i, j = rng.choice(n_points, 2, replace=False)
        pairs.append((i, j) if utility[i] > utility[j] else (j, i))
    return X, np.array(pairs)


def check_preference_model(model_class: type) -> None:
    d = 3
    target = np.array([0.3, -0.2, 0.1])
    X, pairs = anchor_comparisons(target)

    # scikit-learn style: __init__ only stores its hyperparameters.
    model = model_class()
    for name in inspect.signature(model_class.__init__).parameters:
        if name != "self":
            assert hasattr(model, name), f"{name} is not stored by __init__"
    assert not any(k.endswith("_") for k in vars(model)), "learned state before fit"
    with pytest.raises(NotFittedError):
        model.predict(X)

    # fit returns self, records a loss curve, and learns which points are better.
    assert model.fit(X, pairs) is model
    assert len(model.loss_history_) >= 1
    assert model.loss_history_[-1] <= model.loss_history_[0]
    mean, std = model.predict(X)
    assert mean.shape == std.shape == (len(X),)
    assert np.all(std >= 0)
    utility = -np.linalg.norm(X - target, axis=1)
    assert np.corrcoef(mean, utility)[0, 1] > 0.8

    # No data: predictions exist, with uncertainty growing away from what was seen.
    empty = model_class().fit(np.zeros((1, d)), np.zeros((0, 2), dtype=int))
    mean0, std0 = empty.predict(np.array([[0.0, 0, 0], [1.0, 1, 1]]))
    assert np.allclose(mean0, 0)
    assert std0[1] > 0

    # Weights: a zero-weight comparison carries no information.
    weighted = model_class().fit(X[:2], np.array([[0, 1]]), weights=np.array([0.0]))
    assert np.allclose(weighted.predict(X[:2])[0], 0)

    # Reject-all: points that lost to "elsewhere" (-1) end below the unjudged origin.
    rejected = model_class().fit(
        np.vstack([np.zeros(d), X[:4]]), np.array([[-1, 1], [-1, 2], [-1, 3], [-1, 4]])
    )
    mean_r, _ = rejected.predict(np.vstack([np.zeros(d), X[:4]]))
    assert np.all(mean_r[1:] < mean_r[0] + 1e-9)

    # Ties pull two points together compared with a win.
    win = model_class().fit(X[:2], np.array([[0, 1]]))
    tie = model_class().fit(
        X[:2], np.zeros((0, 2), dtype=int), ties=np.array([[0, 1]]), tie_weights=np.array([1.0])
    )
    gap_win = np.ptp(win.predict(X[:2])[0])
    gap_tie = np.ptp(tie.predict(X[:2])[0])
    assert gap_tie < gap_win

    # Bad indices are refused, not silently ignored.
    with pytest.raises(ValueError):
        model_class().fit(X[:2], np.array([[0, 5]]))

    # State is JSON-able for storage with the round.
    import json

    json.dumps(model.state())
