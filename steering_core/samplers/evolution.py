"""The (1, k) evolution strategy baseline: Gaussian mutations of the incumbent, no model.

The k - 1 new candidates are the incumbent plus isotropic Gaussian steps; the researcher's
pick becomes the next parent. Because the incumbent is always re-shown, it is in effect the
elitist (1 + (k - 1)) strategy. The step size follows the 1/5th success rule (I. Rechenberg,
"Evolutionsstrategie", 1973; in the form of S. Kern et al., "Learning probability
distributions in continuous evolutionary algorithms", Natural Computing 2004): times `grow`
for each round that moved the incumbent, times `grow ** -1/4` for each round that did not, so
it stays put when one round in five succeeds. The reference for the strategy itself: H.-G.
Beyer and H.-P. Schwefel, "Evolution strategies: a comprehensive introduction", 2002.
"""

from __future__ import annotations

import numpy as np

from steering_core.hyperparameters import Hyperparameter, check_hyperparameters
from steering_core.models.base import PreferenceModel
from steering_core.samplers.base import SAMPLERS, Proposal, SamplerHistory, incumbent_first


@SAMPLERS.register("evolution_strategy")
class EvolutionStrategySampler:
    """Gaussian mutations of the incumbent; ignores the model's predictions.

    sigma: the mutation step, as a multiple of the trust radius (a mutation's norm is about
        `sigma` trust radii in every dimension).
    adapt: follow the 1/5th success rule over the incumbent path; False keeps `sigma` fixed.
    grow: the factor per successful round (failures shrink by `grow ** -0.25`).
    min_factor, max_factor: the adapted step stays within these multiples of `sigma`.
    """

    hyperparameters = (
        Hyperparameter("sigma", float, 1.0, "mutation step, in trust radii", 0, 10, low_open=True),
        Hyperparameter("adapt", bool, True, "adapt the step by the 1/5th success rule"),
        Hyperparameter(
            "grow", float, 1.5, "step factor per successful round", 1, 10, low_open=True
        ),
        Hyperparameter("min_factor", float, 0.1, "smallest multiple of sigma", 0, 1, low_open=True),
        Hyperparameter("max_factor", float, 5.0, "largest multiple of sigma", 1, 100),
    )

    def __init__(
        self,
        sigma: float = 1.0,
        adapt: bool = True,
        grow: float = 1.5,
        min_factor: float = 0.1,
        max_factor: float = 5.0,
    ) -> None:
        self.sigma = sigma
        self.adapt = adapt
        self.grow = grow
        self.min_factor = min_factor
        self.max_factor = max_factor
        check_hyperparameters(self)

    def step_factor(self, history: SamplerHistory) -> float:
        """The adapted multiple of `sigma`, replayed from the incumbent path: the whole
        history counts, not only the latest streak, and the clamp applies at every round so
        a long stall does not take equally long to undo."""
        path = history.incumbent_path
        if not self.adapt or path is None:
            return 1.0
        moves = np.any(np.diff(np.asarray(path, dtype=np.float64), axis=0) != 0, axis=1)
        factor = 1.0
        for moved in moves.tolist():
            factor *= self.grow if moved else self.grow**-0.25
            factor = min(max(factor, self.min_factor), self.max_factor)
        return factor

    def propose(
        self,
        history: SamplerHistory,
        model: PreferenceModel | None,
        k: int,
        rng: np.random.Generator,
    ) -> Proposal:
        incumbent = np.asarray(history.incumbent, dtype=np.float64)
        factor = self.step_factor(history)
        step = factor * self.sigma * history.trust_radius
        # Per-coordinate std step / sqrt(d): the norm of a mutation is about `step` for any d.
        mutations = incumbent + step / np.sqrt(incumbent.size) * rng.standard_normal(
            (k - 1, incumbent.size)
        )
        metadata = [
            {
                "why": f"Gaussian mutation of the incumbent (step {step:.3g})",
                "mutation_norm": float(np.linalg.norm(mutation - incumbent)),
            }
            for mutation in mutations
        ]
        proposal = incumbent_first(history, model, mutations, ["explore"] * (k - 1), metadata)
        proposal.metadata[0].update(
            step_size=float(step),
            step_factor=float(factor),
            improvement_streak=history.improvement_streak(),
        )
        return proposal
