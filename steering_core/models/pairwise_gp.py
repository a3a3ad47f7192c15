"""Pairwise Gaussian-process preference model: a GP utility over steering vectors, learned from
comparisons through a probit likelihood and a Laplace posterior, its kernel fitted by evidence.

Reference: W. Chu and Z. Ghahramani, "Preference learning with Gaussian processes", ICML 2005;
C. E. Rasmussen and C. K. I. Williams, "Gaussian Processes for Machine Learning", MIT Press
2006, sections 3.4 and 5.5.1 (the Laplace evidence and its gradient).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import numpy as np
import scipy.sparse
from scipy.linalg import LinAlgError, blas, cho_solve, cholesky, solve_triangular
from scipy.optimize import minimize
from scipy.special import log_ndtr
from threadpoolctl import threadpool_limits

from steering_core.hyperparameters import Hyperparameter, check_hyperparameters
from steering_core.models.base import PREFERENCE_MODELS, NotFittedError, as_comparison_arrays

# Log-normal hyperpriors: (median, std of the log). Steering vectors live in a ball of radius
# about 0.5-1 and rounds step by a trust radius of about 0.25, so the prior guess is a utility
# that changes over about half the ball, and anything from a tenth of a trust radius to a few
# balls is plausible. With noise_std 1, an output scale of 1.5 makes a typical utility gap
# between distant points a judgment won about 85 % of the time.
LENGTHSCALE_PRIOR = (0.5, 1.0)
OUTPUTSCALE_PRIOR = (1.5, 1.0)
# Relative jitter on the prior correlation matrix, raised tenfold while Cholesky fails (nearly
# coincident steering vectors with a long lengthscale make the matrix singular).
_JITTER = 1e-6
_MAX_JITTER = 1e-1
_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)

P = ParamSpec("P")
R = TypeVar("R")


def _one_blas_thread(method: Callable[P, R]) -> Callable[P, R]:
    """Run `method` with BLAS on one thread. The matrices here are at most ~600 wide, where a
    second thread gains little, while OpenBLAS's spinning threads collapse as soon as another
    process wants the cores: with other processes busy on this 2-core machine, fitting 500
    comparisons took 16 s with two BLAS threads and 0.65 s with one."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with threadpool_limits(limits=1, user_api="blas"):
            return method(*args, **kwargs)

    return wrapper


def _squared_distances(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """`len(A) x len(B)` squared distances between the rows of `A` and `B`."""
    squared = (A**2).sum(axis=1)[:, None] + (B**2).sum(axis=1)[None, :]
    squared -= 2.0 * A @ B.T
    return np.maximum(squared, 0.0)


def _pinned_rbf(
    squared: np.ndarray,
    norms_a: np.ndarray,
    norms_b: np.ndarray,
    lengthscale: float,
    derivative: bool = False,
) -> np.ndarray:
    """RBF correlations of a GP conditioned on `f(0) = 0`, `k(a, b) - k(a, 0) k(0, b)`, from the
    `len(a) x len(b)` squared distances and the squared norms of `a` and `b`; or, with
    `derivative`, their derivative in log l."""
    rbf = np.exp(-0.5 / lengthscale**2 * squared)
    through_origin = np.outer(
        np.exp(-0.5 / lengthscale**2 * norms_a), np.exp(-0.5 / lengthscale**2 * norms_b)
    )
    if derivative:
        return (rbf * squared - through_origin * np.add.outer(norms_a, norms_b)) / lengthscale**2
    return rbf - through_origin


def _safe_cholesky(matrix: np.ndarray, jitter: float, scale: float = 1.0) -> np.ndarray:
    """Lower Cholesky factor of `matrix + scale * jitter * I`, raising the jitter tenfold until
    it succeeds."""
    while True:
        try:
            shifted = matrix + scale * jitter * np.eye(len(matrix))
            return cholesky(shifted, lower=True, check_finite=False)
        except LinAlgError:
            if jitter >= _MAX_JITTER:
                raise
            jitter *= 10.0


def _probit_terms(
    z: np.ndarray, labels: np.ndarray, weights: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """The weighted log-likelihood `sum w (y log Phi(z) + (1 - y) log Phi(-z))` of comparisons
    with soft labels `y` (1 a win, 1/2 a tie), and its first three derivatives in each `z`
    (length `m` arrays). log_ndtr keeps the Mills ratios finite far in the tails."""
    log_cdf, log_cdf_neg = log_ndtr(z), log_ndtr(-z)
    log_pdf = -0.5 * z**2 - _LOG_SQRT_2PI
    ratio = np.exp(log_pdf - log_cdf)  # phi(z) / Phi(z)
    ratio_neg = np.exp(log_pdf - log_cdf_neg)  # phi(z) / Phi(-z)
    loglik = float(np.sum(weights * (labels * log_cdf + (1 - labels) * log_cdf_neg)))
    a, b = z + ratio, ratio_neg - z
    first = labels * ratio - (1 - labels) * ratio_neg
    second = -labels * ratio * a - (1 - labels) * ratio_neg * b
    third = labels * ratio * (a * (z + 2 * ratio) - 1) - (1 - labels) * ratio_neg * (
        b * (2 * ratio_neg - z) - 1
    )
    return loglik, weights * first, weights * second, weights * third


@dataclass(frozen=True)
class _Comparisons:
    """Informative comparisons as indices into the latent utilities (the last is elsewhere)."""

    winner: np.ndarray  # m
    loser: np.ndarray  # m
    label: np.ndarray  # m: 1 for a win, 1/2 for a tie
    weight: np.ndarray  # m, all > 0
    n_latent: int

    def difference_matrix(self) -> scipy.sparse.csr_matrix:
        """The sparse `m x n_latent` D with `D f = f[winner] - f[loser]`."""
        m = len(self.winner)
        return scipy.sparse.csr_matrix(
            (
                np.concatenate([np.ones(m), -np.ones(m)]),
                (np.tile(np.arange(m), 2), np.concatenate([self.winner, self.loser])),
            ),
            shape=(m, self.n_latent),
        )

    def scatter(self, per_comparison: np.ndarray) -> np.ndarray:
        """`D^T x` for a length-`m` x: what each comparison adds to its winner and its loser."""
        return np.bincount(self.winner, per_comparison, minlength=self.n_latent) - np.bincount(
            self.loser, per_comparison, minlength=self.n_latent
        )


@dataclass(frozen=True)
class _LaplaceFit:
    """The Laplace posterior for one setting of the hyperparameters."""

    lengthscale: float
    outputscale: float
    chol_prior: np.ndarray  # N x N lower: L, with L L^T the prior covariance of the latents
    chol_hessian: np.ndarray  # N x N lower: Lh, with Lh Lh^T = I + L^T W L at the mode
    whitened: np.ndarray  # N: v, with the MAP latent utilities L v (the last is elsewhere)
    negative_log_posterior: float
    newton_losses: list[float]

    @property
    def latent(self) -> np.ndarray:
        return self.chol_prior @ self.whitened

    @property
    def negative_log_evidence(self) -> float:
        # -log q(y) = -log p(y | f) + v.v / 2 + log det(I + L^T W L) / 2
        return self.negative_log_posterior + float(np.log(np.diag(self.chol_hessian)).sum())


@PREFERENCE_MODELS.register("pairwise_gp")
class PairwiseGPModel:
    """GP utility (RBF kernel, pinned to 0 at the origin), probit comparisons, Laplace posterior.

    The utility `f` is a GP with kernel `s^2 exp(-|x - x'|^2 / 2 l^2)` conditioned on
    `f(0) = 0`: comparisons only identify differences, so, as in the Bradley-Terry model,
    utility is measured from the unsteered prompt. A comparison (winner, loser) has probability
    `Phi((f_winner - f_loser) / (sqrt(2) noise_std))`; ties are soft labels (each side wins
    half); reject-all comparisons are won by "elsewhere", one more latent utility with prior
    `N(0, s^2)`, uncorrelated with every steering vector. Newton's method finds the MAP
    utilities of the `p` compared points and elsewhere (`N = p + 1` latents) in whitened
    coordinates (`f = L v`, `K = L L^T`), so the only systems solved are `I + L^T W L`, well
    conditioned however close the points are.

    lengthscale, outputscale: the kernel's `l` and `s`; None (the default) fits them by
    maximising the Laplace evidence under log-normal priors (`LENGTHSCALE_PRIOR`,
    `OUTPUTSCALE_PRIOR`: medians 0.5 and 1.5) within the bounds, by L-BFGS-B on their logs.
    noise_std: the probit's noise on each utility. It sets the utility's units and is not
    fitted: only the ratio of output scale to noise is identifiable.
    lengthscale_bounds, outputscale_bounds: (low, high) for the fitted hyperparameters.
    max_iter, tol: Newton iterations and the stopping tolerance on the squared Newton decrement.
    hyperparameter_max_iter: L-BFGS-B iterations for the hyperparameters.
    """

    hyperparameters = (
        Hyperparameter(
            "lengthscale",
            float,
            None,
            "the kernel's length scale l",
            0,
            low_open=True,
            none_means="fitted by the evidence",
        ),
        Hyperparameter(
            "outputscale",
            float,
            None,
            "the kernel's output scale s",
            0,
            low_open=True,
            none_means="fitted by the evidence",
        ),
        Hyperparameter(
            "noise_std", float, 1.0, "the probit's noise on each utility", 0, low_open=True
        ),
        Hyperparameter(
            "lengthscale_bounds",
            tuple,
            (0.02, 5.0),
            "bounds of the fitted length scale",
            0,
            low_open=True,
        ),
        Hyperparameter(
            "outputscale_bounds",
            tuple,
            (0.05, 20.0),
            "bounds of the fitted output scale",
            0,
            low_open=True,
        ),
        Hyperparameter("max_iter", int, 50, "Newton iterations", 1),
        Hyperparameter(
            "tol", float, 1e-9, "stopping tolerance on the Newton decrement", 0, low_open=True
        ),
        Hyperparameter("hyperparameter_max_iter", int, 30, "L-BFGS-B iterations", 1),
    )
    capabilities = frozenset({"posterior_samples"})

    def __init__(
        self,
        lengthscale: float | None = None,
        outputscale: float | None = None,
        noise_std: float = 1.0,
        lengthscale_bounds: Sequence[float] = (0.02, 5.0),
        outputscale_bounds: Sequence[float] = (0.05, 20.0),
        max_iter: int = 50,
        tol: float = 1e-9,
        hyperparameter_max_iter: int = 30,
    ) -> None:
        self.lengthscale = lengthscale
        self.outputscale = outputscale
        self.noise_std = noise_std
        self.lengthscale_bounds = lengthscale_bounds
        self.outputscale_bounds = outputscale_bounds
        self.max_iter = max_iter
        self.tol = tol
        self.hyperparameter_max_iter = hyperparameter_max_iter
        check_hyperparameters(self)

    # -- fitting ------------------------------------------------------------------------------

    @_one_blas_thread
    def fit(
        self,
        X: np.ndarray,
        comparisons: np.ndarray | None,
        weights: np.ndarray | None = None,
        ties: np.ndarray | None = None,
        tie_weights: np.ndarray | None = None,
    ) -> PairwiseGPModel:
        """Fit on `X`, an `n x d` table of steering vectors. `comparisons`: `m x 2` (winner row,
        loser row), winner -1 = elsewhere; `weights`: length `m`, confidences >= 0; `ties`:
        `t x 2` rows judged equal, with `tie_weights` of length `t`."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        n, d = X.shape
        pairs, weights = as_comparison_arrays(comparisons, weights, n)
        tie_pairs, tie_weights = as_comparison_arrays(ties, tie_weights, n, False)
        all_weights = np.concatenate([weights, tie_weights])
        if not np.all(np.isfinite(all_weights) & (all_weights >= 0)):
            raise ValueError("weights and tie_weights must be finite and >= 0")

        winners = np.concatenate([pairs[:, 0], tie_pairs[:, 0]])
        losers = np.concatenate([pairs[:, 1], tie_pairs[:, 1]])
        labels = np.concatenate([np.ones(len(pairs)), np.full(len(tie_pairs), 0.5)])
        # Latent utilities only where a comparison of positive weight says something; the GP
        # predicts every other row from them. Duplicate rows share one latent utility, so they
        # cannot make the prior covariance singular.
        keep = (all_weights > 0) & (winners != losers)
        compared_rows = np.unique(np.concatenate([winners[keep & (winners >= 0)], losers[keep]]))
        points, inverse = np.unique(X[compared_rows], axis=0, return_inverse=True)
        latent_of_row = np.full(n, -1)
        latent_of_row[compared_rows] = inverse.reshape(-1)
        elsewhere = len(points)
        winner_latent = np.where(winners < 0, elsewhere, latent_of_row[winners])
        loser_latent = latent_of_row[losers]
        keep &= winner_latent != loser_latent
        data = _Comparisons(
            winner=winner_latent[keep],
            loser=loser_latent[keep],
            label=labels[keep],
            weight=all_weights[keep],
            n_latent=elsewhere + 1,
        )
        geometry = (_squared_distances(points, points), (points**2).sum(axis=1))

        bounds = {
            "lengthscale": tuple(float(b) for b in self.lengthscale_bounds),
            "outputscale": tuple(float(b) for b in self.outputscale_bounds),
        }
        priors = {"lengthscale": LENGTHSCALE_PRIOR, "outputscale": OUTPUTSCALE_PRIOR}
        start = {
            name: float(getattr(self, name) or np.clip(priors[name][0], *bounds[name]))
            for name in ("lengthscale", "outputscale")
        }
        free = [name for name in ("lengthscale", "outputscale") if getattr(self, name) is None]
        if len(data.winner) and free:
            fit, self.loss_history_ = self._fit_hyperparameters(
                geometry, data, start, free, bounds, priors
            )
        else:
            # Nothing to fit hyperparameters on (or nothing to fit): one Newton solve, whose
            # negative log posterior per iteration is the loss curve.
            fit = self._laplace(geometry, data, start["lengthscale"], start["outputscale"], None)
            self.loss_history_: list[float] = fit.newton_losses

        self.points_ = points
        self.lengthscale_ = fit.lengthscale
        self.outputscale_ = fit.outputscale
        self.chol_prior_ = fit.chol_prior
        self.chol_hessian_ = fit.chol_hessian
        self.latent_ = fit.latent
        # K^-1 f at the mode: the posterior mean anywhere is k(x, points) . alpha.
        self.alpha_ = solve_triangular(
            fit.chol_prior, fit.whitened, lower=True, trans="T", check_finite=False
        )
        self.elsewhere_utility_ = float(self.latent_[-1])
        self.log_evidence_ = -fit.negative_log_evidence
        self.n_comparisons_ = int(len(pairs) + len(tie_pairs))
        self.d_ = d
        return self

    def _fit_hyperparameters(
        self,
        geometry: tuple[np.ndarray, np.ndarray],
        data: _Comparisons,
        start: dict[str, float],
        free: list[str],
        bounds: dict[str, tuple[float, ...]],
        priors: dict[str, tuple[float, float]],
    ) -> tuple[_LaplaceFit, list[float]]:
        """Minimise -log evidence - log hyperprior over the logs of the free hyperparameters
        (L-BFGS-B, analytic gradient); returns the best Laplace fit and the loss per iterate."""
        # Each evaluation's Newton starts from the previous mode: a few steps instead of ten.
        state: dict[str, Any] = {"latent": None, "best": None, "best_loss": np.inf}

        def objective(log_values: np.ndarray) -> tuple[float, np.ndarray]:
            values = dict(start)
            values.update(zip(free, np.exp(log_values).tolist(), strict=True))
            fit = self._laplace(
                geometry, data, values["lengthscale"], values["outputscale"], state["latent"]
            )
            state["latent"] = fit.latent
            gradient = self._log_evidence_gradient(fit, geometry, data)
            loss = fit.negative_log_evidence
            grad = np.array([-gradient[name] for name in free])
            for i, name in enumerate(free):
                median, log_std = priors[name]
                offset = (log_values[i] - np.log(median)) / log_std
                loss += 0.5 * offset**2
                grad[i] += offset / log_std
            if loss < state["best_loss"]:
                state["best"], state["best_loss"] = fit, float(loss)
            return float(loss), grad

        x0 = np.log([start[name] for name in free])
        first_loss, first_grad = objective(x0)
        # L-BFGS-B's first trial point is x0 - gradient (projected on the bounds): with
        # gradients in the tens it leaps to a corner of the bounds and can settle in a
        # degenerate basin there (tiny lengthscale, huge output scale). Dividing the loss so
        # that the first step moves each log hyperparameter by at most 0.5 keeps it local.
        divisor = max(1.0, float(np.abs(first_grad).max()) / 0.5)

        def scaled(log_values: np.ndarray) -> tuple[float, np.ndarray]:
            if np.array_equal(log_values, x0):  # already evaluated
                return first_loss / divisor, first_grad / divisor
            loss, grad = objective(log_values)
            return loss / divisor, grad / divisor

        iterates = [first_loss]
        minimize(
            scaled,
            x0,
            jac=True,
            method="L-BFGS-B",
            bounds=[tuple(np.log(bounds[name])) for name in free],
            callback=lambda intermediate_result: iterates.append(
                float(intermediate_result.fun) * divisor
            ),
            options={"maxiter": self.hyperparameter_max_iter, "ftol": 1e-5, "gtol": 1e-3},
        )
        return state["best"], iterates

    def _laplace(
        self,
        geometry: tuple[np.ndarray, np.ndarray],
        data: _Comparisons,
        lengthscale: float,
        outputscale: float,
        start_latent: np.ndarray | None,
    ) -> _LaplaceFit:
        """The posterior mode of the latent utilities by damped Newton in whitened coordinates,
        and the Cholesky factor of the Hessian there. `geometry`: the `p x p` squared distances
        and the `p` squared norms of the compared steering vectors."""
        n_latent = data.n_latent
        correlation = np.eye(n_latent)  # elsewhere (the last) is uncorrelated with the rest
        correlation[:-1, :-1] = _pinned_rbf(geometry[0], geometry[1], geometry[1], lengthscale)
        chol_prior = outputscale * _safe_cholesky(correlation, _JITTER)
        scale = np.sqrt(2.0) * self.noise_std
        # With no more comparisons than latents, L^T W L is cheapest as G^T S G with the rows
        # G = D L; with more, as L^T (W L) with the sparse W = D^T S D.
        few = len(data.winner) <= n_latent
        rows = chol_prior[data.winner] - chol_prior[data.loser] if few else None
        difference = None if few else data.difference_matrix()

        def negative_log_posterior(v: np.ndarray) -> tuple[float, tuple]:
            f = chol_prior @ v
            z = (f[data.winner] - f[data.loser]) / scale
            terms = _probit_terms(z, data.label, data.weight)
            return 0.5 * float(v @ v) - terms[0], terms

        v = np.zeros(n_latent)
        if start_latent is not None:
            v = solve_triangular(chol_prior, start_latent, lower=True, check_finite=False)
        loss, terms = negative_log_posterior(v)
        losses = [loss]
        for iteration in range(self.max_iter + 1):
            _, first, second, _ = terms
            gradient = v - chol_prior.T @ data.scatter(first) / scale
            # >= 0 (the probit is log-concave); clipped against rounding far in the tails.
            curvature = np.maximum(-second / scale**2, 0.0)
            if not len(data.winner):
                hessian = np.zeros((n_latent, n_latent), order="F")
            elif few:
                hessian = blas.dsyrk(1.0, rows * np.sqrt(curvature)[:, None], trans=1, lower=1)
            else:
                w = difference.T @ scipy.sparse.diags(curvature) @ difference
                hessian = chol_prior.T @ np.asarray(w @ chol_prior)
            hessian[np.diag_indices(n_latent)] += 1.0
            chol_hessian = cholesky(hessian, lower=True, check_finite=False)
            step = -cho_solve((chol_hessian, True), gradient, check_finite=False)
            decrement = -float(gradient @ step)  # the squared Newton decrement
            if decrement < 2 * self.tol or iteration == self.max_iter:
                break
            # Backtracking keeps every step a descent step: the loss curve never rises.
            t = 1.0
            while True:
                candidate_loss, candidate_terms = negative_log_posterior(v + t * step)
                if candidate_loss <= loss - 1e-4 * t * decrement or t < 1e-10:
                    break
                t *= 0.5
            if candidate_loss > loss:
                break
            v, loss, terms = v + t * step, candidate_loss, candidate_terms
            losses.append(loss)
        return _LaplaceFit(
            lengthscale=float(lengthscale),
            outputscale=float(outputscale),
            chol_prior=chol_prior,
            chol_hessian=chol_hessian,
            whitened=v,
            negative_log_posterior=float(loss),
            newton_losses=[float(x) for x in losses],
        )

    def _log_evidence_gradient(
        self, fit: _LaplaceFit, geometry: tuple[np.ndarray, np.ndarray], data: _Comparisons
    ) -> dict[str, float]:
        """d log q(y) / d log(hyperparameter) at the mode, including the mode's own movement
        (Rasmussen and Williams 5.5.1, with the non-diagonal W of pairwise comparisons)."""
        scale = np.sqrt(2.0) * self.noise_std
        n_latent = data.n_latent
        L, chol_h, v = fit.chol_prior, fit.chol_hessian, fit.whitened
        f = fit.latent
        _, first, second, third = _probit_terms(
            (f[data.winner] - f[data.loser]) / scale, data.label, data.weight
        )
        alpha = data.scatter(first) / scale  # = K^-1 f at the mode
        curvature = np.maximum(-second / scale**2, 0.0)
        # V = Lh^-1 L^T: the posterior covariance of the latents is V^T V, so the columns of
        # U = V D^T give the posterior variance of each comparison's utility difference.
        V = solve_triangular(chol_h, L.T, lower=True, check_finite=False)
        U = V[:, data.winner] - V[:, data.loser]
        variance = (U * U).sum(axis=0)
        # How -log det(I + K W) / 2 moves with the mode (W depends on f through the probit),
        # and b = H^-1 L^T of it, which carries that through the mode's own derivative.
        mode_gradient = 0.5 / scale**3 * data.scatter(third * variance)
        b = cho_solve((chol_h, True), L.T @ mode_gradient, check_finite=False)
        # V W = U S D, scattered column by column: O(N m), no dense W.
        VW = np.asarray((data.difference_matrix().T @ (U * curvature).T).T)

        # Output scale: dK / d log s = 2 K.
        d_outputscale = float(v @ v) - float((VW * V).sum()) + 2.0 * float(b @ v)

        # Lengthscale: elsewhere's prior does not depend on it.
        dK = np.zeros((n_latent, n_latent))
        dK[:-1, :-1] = fit.outputscale**2 * _pinned_rbf(
            geometry[0], geometry[1], geometry[1], fit.lengthscale, True
        )
        trace_w_dk = float(
            np.sum(
                curvature
                * (
                    dK[data.winner, data.winner]
                    + dK[data.loser, data.loser]
                    - 2 * dK[data.winner, data.loser]
                )
            )
        )
        trace_wsw_dk = float(((VW @ dK) * VW).sum())
        dK_alpha = dK @ alpha
        d_lengthscale = (
            0.5 * float(alpha @ dK_alpha)
            - 0.5 * (trace_w_dk - trace_wsw_dk)
            + float(b @ solve_triangular(L, dK_alpha, lower=True, check_finite=False))
        )
        return {"lengthscale": d_lengthscale, "outputscale": d_outputscale}

    # -- prediction ---------------------------------------------------------------------------

    def _check_fitted(self, X: np.ndarray) -> np.ndarray:
        if not hasattr(self, "alpha_"):
            raise NotFittedError("this PairwiseGPModel is not fitted yet; call fit first")
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        if X.shape[1] != self.d_:
            raise ValueError(f"X has {X.shape[1]} columns; the model was fitted on {self.d_}")
        return X

    def _posterior_factors(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The posterior mean at the `t x d` rows of X, and the `N x t` factors `A = L^-1 k` and
        `B = Lh^-1 A`, with which the posterior covariance is `k(X, X) - A^T A + B^T B`."""
        cross = self.outputscale_**2 * _pinned_rbf(
            _squared_distances(X, self.points_),
            (X**2).sum(axis=1),
            (self.points_**2).sum(axis=1),
            self.lengthscale_,
        )
        mean = cross @ self.alpha_[:-1]
        padded = np.vstack([cross.T, np.zeros((1, len(X)))])  # elsewhere: uncorrelated
        A = solve_triangular(self.chol_prior_, padded, lower=True, check_finite=False)
        B = solve_triangular(self.chol_hessian_, A, lower=True, check_finite=False)
        return mean, A, B

    @_one_blas_thread
    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and std (each length `t`) of the utility at the `t x d` rows of X."""
        X = self._check_fitted(X)
        mean, A, B = self._posterior_factors(X)
        # The pinned prior variance s^2 (1 - exp(-|x|^2 / l^2)), accurate near the origin.
        prior = -(self.outputscale_**2) * np.expm1(-(X**2).sum(axis=1) / self.lengthscale_**2)
        variance = prior - (A * A).sum(axis=0) + (B * B).sum(axis=0)
        return mean, np.sqrt(np.maximum(variance, 0.0))

    @_one_blas_thread
    def sample_posterior(
        self, X: np.ndarray, n_samples: int, rng: np.random.Generator
    ) -> np.ndarray:
        """`n_samples x t` joint draws of the utility at the `t x d` rows of X from the Laplace
        posterior; all randomness comes from `rng`."""
        X = self._check_fitted(X)
        mean, A, B = self._posterior_factors(X)
        norms = (X**2).sum(axis=1)
        prior = self.outputscale_**2 * _pinned_rbf(
            _squared_distances(X, X), norms, norms, self.lengthscale_
        )
        covariance = prior - A.T @ A + B.T @ B
        # Pool points can nearly coincide (and the origin has no variance): jitter relative to
        # the prior variance.
        chol = _safe_cholesky(0.5 * (covariance + covariance.T), 1e-10, self.outputscale_**2)
        return mean + rng.standard_normal((n_samples, len(X))) @ chol.T

    def state(self) -> dict[str, Any]:
        return {
            "model": "pairwise_gp",
            "lengthscale": self.lengthscale_,
            "outputscale": self.outputscale_,
            "noise_std": self.noise_std,
            "fitted_hyperparameters": [
                name for name in ("lengthscale", "outputscale") if getattr(self, name) is None
            ],
            "elsewhere_utility": self.elsewhere_utility_,
            "log_evidence": self.log_evidence_,
            "n_points": len(self.points_),
            "n_comparisons": self.n_comparisons_,
            "loss_history": self.loss_history_,
        }
