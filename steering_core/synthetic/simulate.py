"""Run a synthetic user through a real session: the same rounds, feedback path and storage
as a researcher's, marked `synthetic`.

Users that judge steering vectors (not images) can run without a generator: rounds are then
planned and stored without images, which is what makes large benchmarks affordable.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from steering_core.config import SessionConfig
from steering_core.generators.base import Generator
from steering_core.rounds import generate_round, plan_round, store_round
from steering_core.sessions import create_session, submit_feedback
from steering_core.storage import session_store
from steering_core.storage.leases import hold_lease
from steering_core.storage.records import SyntheticTargetRecord
from steering_core.storage.workspace import Workspace
from steering_core.synthetic.users import Shown, SyntheticUser


@dataclass
class SimulationResult:
    """One synthetic session: its id and, per round, the incumbent and its true utility.

    `distances_to_target`: per round, the incumbent's distance to what the user wants, for
    users with a target in the steering space (anchor, diversity); empty for the others.
    """

    session_id: str
    incumbent_vectors: list[np.ndarray] = field(default_factory=list)
    incumbent_utilities: list[float] = field(default_factory=list)
    modes: list[str] = field(default_factory=list)
    distances_to_target: list[float] = field(default_factory=list)


def simulate_session(
    workspace: Workspace,
    config: SessionConfig,
    user: SyntheticUser,
    rounds: int,
    mode: str | None = None,
    seed: int = 0,
    generator: Generator | None = None,
    stop: Callable[[SimulationResult], bool] | None = None,
) -> SimulationResult:
    """Create a session and play `rounds` rounds of it as `user`, answering in `mode`
    (default: the session's feedback mode). All of the user's randomness comes from `seed`.
    `stop(result)`, asked once each round's incumbent is recorded, ends the session early.
    What the user wants (an anchor's target, a diversity user's centres) is stored with the
    session (`synthetic_targets`), so its curves can show the distance to it."""
    session = create_session(workspace, config, source="synthetic")
    store_target(workspace, session.id, user)
    rng = np.random.default_rng(seed)
    result = SimulationResult(session_id=session.id)
    user.reset()  # a user with memory (diversity) starts the session without any
    # A lease while the session is played, so that `steer gc` leaves it alone (bench runs).
    with hold_lease(workspace, session.id):
        for round_index in range(rounds):
            if generator is not None:
                _, candidates = generate_round(workspace, generator, session.id)
                images: list[Any] = [workspace.images.load(c.image_path) for c in candidates]
            else:
                _, candidates = store_round(workspace, plan_round(workspace, session.id), images={})
                images = [None] * len(candidates)
            shown = [
                Shown(c.id, c.slot, c.steering_vector, image)
                for c, image in zip(candidates, images, strict=True)
            ]
            result.incumbent_vectors.append(candidates[0].steering_vector)
            result.incumbent_utilities.append(float(user.utility(shown[:1])[0]))
            distance = user.distance_to_target(candidates[0].steering_vector)
            if distance is not None:
                result.distances_to_target.append(distance)
            if stop is not None and stop(result):
                break
            raw = user.judge(shown, mode or config.feedback_mode, round_index, rng)
            result.modes.append(raw["mode"])
            submit_feedback(workspace, session.id, raw, source="synthetic")
    return result


def _describe_user(user: SyntheticUser) -> dict[str, Any]:
    """The user's registered name and constructor arguments, JSON-able."""
    description: dict[str, Any] = {"user": getattr(user, "registered_name", type(user).__name__)}
    if dataclasses.is_dataclass(user):
        for item in dataclasses.fields(user):
            if item.init:
                value = getattr(user, item.name)
                if dataclasses.is_dataclass(value):
                    value = dataclasses.asdict(value)  # type: ignore[arg-type]
                description[item.name] = value
    return description


def _jsonable(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else str(value)


def store_target(workspace: Workspace, session_id: str, user: SyntheticUser) -> None:
    """Keep the hidden target of a synthetic session (nothing for a user without one)."""
    targets = user.targets()
    if targets is None:
        return
    # Through JSON once, so that what a dataclass field holds (arrays...) is stored as text.
    described = json.loads(json.dumps(_describe_user(user), default=_jsonable))
    record = SyntheticTargetRecord(session_id=session_id, targets=targets.tolist(), user=described)
    with workspace.db.transaction() as connection:
        session_store.insert_synthetic_target(connection, record, replace=True)


def stored_targets(workspace: Workspace, session_id: str) -> np.ndarray | None:
    """The hidden target(s) of a synthetic session as an `m x d` array, or None."""
    record = session_store.synthetic_target(workspace.db.connection(), session_id)
    return None if record is None else np.asarray(record.targets, dtype=np.float64)
