"""Counterfactual replay: which incumbent each preference model would have chosen, round by
round, on the judgments a logged session had at the time.

The session's logic is re-run, not re-implemented: the session as it stood when each round
was stored is loaded into a scratch database, and `session_judgments`, `fit_on_judgments` and
`choose_incumbent` (the calls `plan_round` makes) run on it with each model in turn.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError
from scipy.stats import spearmanr

from steering_core.config import PluginConfig, SessionConfig, make_config
from steering_core.errors import InvalidInput
from steering_core.exports.replay import build_replay, insert_unchanged, load_replay
from steering_core.incumbent import choose_incumbent, fit_on_judgments
from steering_core.judgments import session_judgments
from steering_core.models import PREFERENCE_MODELS, PreferenceModel
from steering_core.storage.database import delete_all_sessions, make_scratch
from steering_core.storage.workspace import Workspace


@dataclass(frozen=True)
class RoundChoice:
    """One model's choice before one round (`round_index` None: after the last round).

    `logged_candidate_id`: the candidate the session re-showed as that round's incumbent;
    `incumbent_utility`: the model's predicted utility of its own choice; `rank_correlation`:
    Spearman's rho of its predicted utilities with the logged model's over every steering
    vector shown so far (None when either is constant); `distance_to_target`: its choice's
    distance to the nearest hidden target of a synthetic session."""

    round_index: int | None
    logged_candidate_id: int | None
    chosen_candidate_id: int | None
    agrees: bool | None
    incumbent_utility: float | None
    rank_correlation: float | None
    distance_to_target: float | None


@dataclass(frozen=True)
class ModelReplay:
    """One model over the whole session. `agreement` = `agreed / compared` over the rounds
    after round 0; `rank_correlation` is the mean over every point of the session."""

    model: str
    params: dict[str, Any]
    is_session_model: bool
    agreed: int
    compared: int
    agreement: float | None
    rank_correlation: float | None
    final_candidate_id: int | None
    final_distance_to_target: float | None
    rounds: list[RoundChoice]


@dataclass(frozen=True)
class CounterfactualReplay:
    """Every model's replay of one session, with the logged run re-run as the reference
    (`reproduced` of `compared` choices re-made as logged)."""

    session_id: str
    source: str
    n_rounds: int
    session_model: str
    compared: int
    reproduced: int
    logged_final_candidate_id: int | None
    logged_final_distance_to_target: float | None
    models: list[ModelReplay]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_model_names(names: list[str] | None) -> list[str]:
    """The names (default: every registered preference model), each checked."""
    if names is None:
        return PREFERENCE_MODELS.names()
    if not names:
        raise InvalidInput(
            f"models: name at least one; allowed: {', '.join(PREFERENCE_MODELS.names())}"
        )
    for name in names:
        if name not in PREFERENCE_MODELS:
            raise InvalidInput(
                f"models: unknown preference model {name!r}; "
                f"allowed: {', '.join(PREFERENCE_MODELS.names())}"
            )
    return list(dict.fromkeys(names))


def replay_as_of(replay: dict[str, Any], round_index: int) -> dict[str, Any]:
    """The session as it stood when round `round_index` was stored: the rounds before it,
    and the judgments given and undone before that moment (timestamps are UTC ISO 8601 with
    microseconds, so they compare as text)."""
    cutoff = next(r["created_at"] for r in replay["rounds"] if r["index"] == round_index)
    events = [
        {**event, "undone_at": event["undone_at"] if (event["undone_at"] or "~") < cutoff else None}
        for event in replay["feedback_events"]
        if event["created_at"] < cutoff and event["round_index"] < round_index
    ]
    kept = {event["id"] for event in events}
    return {
        **replay,
        "rounds": [r for r in replay["rounds"] if r["index"] < round_index],
        "feedback_events": events,
        "comparisons": [c for c in replay["comparisons"] if c["event_id"] in kept],
    }


def _plugin(value: Any, where: str) -> PluginConfig:
    try:
        return PluginConfig.model_validate(value)
    except ValidationError:
        raise InvalidInput(f"{where}: expected {{name, params}} (got {value!r})") from None


def logged_model(
    replay: dict[str, Any], round_index: int | None, configured: PluginConfig
) -> PluginConfig:
    """The preference model the session fitted to plan round `round_index` (None: the next
    round): the latest settings change before it, else `configured` (the session's config).
    When the model was changed only later, the first model's name comes from the round's
    stored state and its parameters, which nothing recorded, are taken as the defaults."""
    changes = [
        (i, change)
        for i, change in enumerate(replay["setting_changes"])
        if "preference_model" in change["changes"]
    ]
    applied = [(i, c) for i, c in changes if round_index is None or c["from_round"] <= round_index]
    if applied:
        i, change = applied[-1]
        where = f"replay.setting_changes[{i}].changes.preference_model"
        return _plugin(change["changes"]["preference_model"], where)
    if not changes:
        return configured
    state = next(r["model_state"] for r in replay["rounds"] if r["index"] == round_index)
    return PluginConfig(name=str(state.get("model", configured.name)))


@contextmanager
def _scratch_workspace() -> Iterator[Workspace]:
    """A throwaway data root in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="steer-counterfactual-") as folder:
        workspace = Workspace.open(Path(folder) / "data", Path(folder) / "labels")
        workspace.tracing = False  # type: ignore[misc]  # scratch rounds are not events
        make_scratch(workspace.db.connection())
        try:
            yield workspace
        finally:
            workspace.db.close()


def _load(workspace: Workspace, replay: dict[str, Any]) -> None:
    with workspace.db.transaction() as connection:
        delete_all_sessions(connection)
        insert_unchanged(connection, replay)


def _rank_correlation(a: np.ndarray, b: np.ndarray) -> float | None:
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None  # undefined: one of them ranks everything equal
    return float(spearmanr(a, b).statistic)


def _distance(targets: np.ndarray | None, vector: np.ndarray | None) -> float | None:
    """Distance to the nearest hidden target (None without targets or a choice)."""
    if targets is None or vector is None or not len(targets):
        return None
    return float(np.min(np.linalg.norm(targets - vector, axis=1)))


def _same_image(chosen: Any, logged: dict[str, Any] | None) -> bool:
    """Whether the chosen candidate shows what the logged incumbent showed: the same
    steering vector and seed (a re-shown incumbent is a new candidate with the same image)."""
    return (
        chosen is not None
        and logged is not None
        and chosen.seed == logged["seed"]
        and np.array_equal(chosen.steering_vector, np.asarray(logged["steering_vector"]))
    )


@dataclass(frozen=True)
class _Point:
    """A moment of the session at which every model chooses: before round `round_index`
    (None: after the last round), with the logged choice then and the vectors shown so far
    (`shown`, `n x d`) and the logged model's utilities of them (`reference`)."""

    round_index: int | None
    logged: dict[str, Any] | None
    shown: np.ndarray
    reference: np.ndarray | None


def _choice(
    scratch: Workspace,
    session_id: str,
    model: PreferenceModel,
    at: _Point,
    targets: np.ndarray | None,
) -> RoundChoice:
    chosen = choose_incumbent(scratch, session_id, model)
    vector = None if chosen is None else chosen.steering_vector
    mean = model.predict(at.shown)[0] if len(at.shown) else None
    return RoundChoice(
        round_index=at.round_index,
        logged_candidate_id=None if at.logged is None else at.logged["id"],
        chosen_candidate_id=None if chosen is None else chosen.id,
        agrees=None if at.round_index is None else _same_image(chosen, at.logged),
        incumbent_utility=None if vector is None else float(model.predict(vector[None, :])[0][0]),
        rank_correlation=None
        if mean is None or at.reference is None
        else _rank_correlation(mean, at.reference),
        distance_to_target=_distance(targets, vector),
    )


def counterfactual_replay(
    replay: dict[str, Any], model_names: list[str] | None = None
) -> CounterfactualReplay:
    """Re-fit each model (default: every registered one) before every round of the logged
    session and compare its incumbent choice with the logged one. A model is fitted with the
    session's parameters where it is the model the session used, else with its defaults."""
    names = check_model_names(model_names)
    session = replay["session"]
    config = make_config(session["config"], source=f"session {session['id']} config", stored=True)
    target = replay["synthetic_target"]
    targets = None if target is None else np.asarray(target["targets"], dtype=np.float64)
    candidates = {c["id"]: c for r in replay["rounds"] for c in r["candidates"]}

    # Before each round after the first (whose incumbent is the prompt or a fork's origin),
    # then after the last round: the choice the next round would make.
    points: list[int | None] = [r["index"] for r in replay["rounds"][1:]]
    if replay["rounds"]:
        points.append(None)
    choices: dict[str, list[RoundChoice]] = {name: [] for name in names}
    reference_choices: list[RoundChoice] = []
    with _scratch_workspace() as scratch:
        for point in points:
            _load(scratch, replay if point is None else replay_as_of(replay, point))
            logged = None
            if point is not None:
                round_row = next(r for r in replay["rounds"] if r["index"] == point)
                logged = candidates.get(round_row["candidates"][0]["parent_candidate_id"])
            judgments = session_judgments(scratch, session["id"])
            # The logged model with its logged parameters; every other one with its defaults.
            logged_plugin = logged_model(replay, point, config.preference_model)
            plugins = {logged_plugin.name: logged_plugin}
            for name in names:
                plugins.setdefault(name, PluginConfig(name=name))
            fitted = {
                name: fit_on_judgments(judgments, _with_model(config, plugin))
                for name, plugin in plugins.items()
            }
            shown = judgments.X
            at = _Point(
                round_index=point,
                logged=logged,
                shown=shown,
                reference=fitted[logged_plugin.name].predict(shown)[0] if len(shown) else None,
            )
            made = {
                name: _choice(scratch, session["id"], model, at, targets)
                for name, model in fitted.items()
            }
            reference_choices.append(made[logged_plugin.name])
            for name in names:
                choices[name].append(made[name])

    session_plugin = logged_model(replay, None, config.preference_model)
    session_model = session_plugin.name
    reference_rounds = [c for c in reference_choices if c.round_index is not None]
    final = reference_choices[-1] if reference_choices else None
    return CounterfactualReplay(
        session_id=session["id"],
        source=session["source"],
        n_rounds=len(replay["rounds"]),
        session_model=session_model,
        compared=len(reference_rounds),
        reproduced=sum(bool(c.agrees) for c in reference_rounds),
        logged_final_candidate_id=None if final is None else final.chosen_candidate_id,
        logged_final_distance_to_target=None if final is None else final.distance_to_target,
        models=[
            _summary(name, choices[name], session_plugin, name == session_model) for name in names
        ],
    )


def _with_model(config: SessionConfig, plugin: PluginConfig) -> SessionConfig:
    return config.model_copy(update={"preference_model": plugin})


def _summary(
    name: str, rounds: list[RoundChoice], session_plugin: PluginConfig, is_session_model: bool
) -> ModelReplay:
    compared = [c for c in rounds if c.round_index is not None]
    agreed = sum(bool(c.agrees) for c in compared)
    correlations = [c.rank_correlation for c in rounds if c.rank_correlation is not None]
    final = rounds[-1] if rounds and rounds[-1].round_index is None else None
    return ModelReplay(
        model=name,
        params=session_plugin.params if is_session_model else {},
        is_session_model=is_session_model,
        agreed=agreed,
        compared=len(compared),
        agreement=agreed / len(compared) if compared else None,
        rank_correlation=float(np.mean(correlations)) if correlations else None,
        final_candidate_id=None if final is None else final.chosen_candidate_id,
        final_distance_to_target=None if final is None else final.distance_to_target,
        rounds=rounds,
    )


def load_session_or_file(workspace: Workspace | None, reference: str) -> dict[str, Any]:
    """A replay from a JSON file (a path ending in .json, or any existing file), else the
    session of that id in `workspace`."""
    if is_replay_file(reference):
        return load_replay(Path(reference))
    if workspace is None:
        raise InvalidInput(f"{reference!r} is neither a replay file nor a session id")
    return build_replay(workspace, reference)


def is_replay_file(reference: str) -> bool:
    """Whether `reference` names a replay file (a path ending in .json, or any existing
    file) rather than a session id."""
    path = Path(reference)
    return path.suffix.lower() == ".json" or path.is_file()


def table_lines(result: CounterfactualReplay) -> list[str]:
    """The result as text: a heading, then one row per model."""

    def number(value: float | None, form: str) -> str:
        return "-" if value is None else format(value, form)

    lines = [
        f"session {result.session_id} ({result.source}, {result.n_rounds} rounds, model "
        f"{result.session_model}): re-run as logged, {result.reproduced} of {result.compared} "
        "incumbent choices reproduced"
    ]
    if result.logged_final_distance_to_target is not None:
        lines.append(
            f"hidden target: the logged final choice #{result.logged_final_candidate_id} is "
            f"{result.logged_final_distance_to_target:.3f} from it"
        )
    lines.append(
        f"{'model':<17} {'agreement':<15} {'rank corr':>9}  {'final choice':<12}  distance"
    )
    for row in result.models:
        name = row.model + (" *" if row.is_session_model else "")
        agreement = f"{number(row.agreement, '.0%')} ({row.agreed}/{row.compared})"
        final = "-" if row.final_candidate_id is None else f"#{row.final_candidate_id}"
        lines.append(
            f"{name:<17} {agreement:<15} {number(row.rank_correlation, '.3f'):>9}  "
            f"{final:<12}  {number(row.final_distance_to_target, '.3f')}"
        )
    lines.append("* the session's own model; agreement: rounds whose incumbent it chose as logged;")
    lines.append("rank corr: mean Spearman's rho of its utilities with the logged model's")
    return lines
