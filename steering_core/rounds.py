"""Generating a round: fit the preference model, pick the incumbent, propose, render, store.

`plan_round` is pure bookkeeping (no generator); `generate_round` renders the plan with a
generator and stores the round in one transaction. The worker runs `generate_round` as a job.
A round can also be asked for *around* chosen candidates (the draft funnel, "more like this"):
they are re-shown unchanged and varied, instead of the sampler's proposal.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import diskcache
import numpy as np

from steering_core import trace
from steering_core.config import SessionConfig, make_config
from steering_core.convergence import session_verdict, value_of_another_round
from steering_core.derived import cached
from steering_core.errors import InvalidInput, JobCancelled, NotFound, RoundSuperseded
from steering_core.generators.base import (
    Conditioning,
    GenerationSettings,
    Generator,
    StepProgress,
)
from steering_core.incumbent import (
    choose_incumbent,
    fit_on_judgments,
    latest_round_rejected_all,
)
from steering_core.judgments import Judgments, session_judgments
from steering_core.models.base import PreferenceModel
from steering_core.pace import PaceKey
from steering_core.probes import choose_probe_pair
from steering_core.samplers import SAMPLERS, Proposal, SamplerHistory
from steering_core.samplers.base import incumbent_first
from steering_core.samplers.trust_region import sample_sphere
from steering_core.sessions import (
    get_candidate,
    get_round,
    get_rounds,
    get_session,
    load_session_config,
)
from steering_core.steering_space import SteeringSpace, build_steering_space
from steering_core.storage import judgment_store, round_store
from steering_core.storage.records import CandidateRecord, RoundRecord, now
from steering_core.storage.workspace import Workspace


class RoundReporter:
    """How a round reports progress; the worker passes one that publishes job events."""

    def phase(self, name: str, message: str = "") -> None:
        """A new phase began (fitting, proposing, encoding prompt, generating, saving)."""

    def render_started(self, key: PaceKey) -> None:
        """Images are about to be rendered with the generator, size and steps of `key`."""

    def step(self, progress: StepProgress) -> None:
        """A denoising step finished (or a batch's images were decoded)."""

    def should_cancel(self) -> bool:
        return False


@dataclass
class RoundPlan:
    """What the next round will show, before any image is rendered."""

    session_id: str
    round_index: int
    config: SessionConfig
    proposal: Proposal
    seeds: list[int]
    parents: list[int | None]
    reused_images: dict[int, str]  # slot -> image path of an unchanged re-shown candidate
    model_state: dict[str, Any] = field(default_factory=dict)
    # The session's last feedback event when the plan read its judgments (0: none yet): the
    # plan used every judgment up to it that was standing then.
    planned_through_event_id: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def candidate_seed(config: SessionConfig, round_index: int, slot: int) -> int:
    """The noise seed of a new candidate under the session's seed policy."""
    if config.seed_policy == "fixed":
        return config.seed
    key = [config.seed, round_index]
    if config.seed_policy == "per_candidate":
        key.append(slot)
    return int(np.random.default_rng(key).integers(0, 2**32 - 1))


# A variation of a kept candidate lies this many trust radii from it: near enough to read as
# "more like this", far enough to look different.
VARIATION_RADIUS = 0.5


def check_round_request(
    workspace: Workspace,
    session_id: str,
    around: Sequence[int] | None = None,
    k: int | None = None,
) -> tuple[SessionConfig, list[CandidateRecord]]:
    """The session's config with this round's size `k` applied (None: the session's), and
    the candidates `around` names (ids of this session's candidates, in order).

    Raises InvalidInput naming `k` or the candidate id; stores nothing. `plan_round` calls
    it, and so does `Worker.submit_round` so that a bad request fails before it is queued."""
    session = get_session(workspace, session_id)
    config = load_session_config(session)
    if k is not None:
        if isinstance(k, bool) or not isinstance(k, int | np.integer):
            raise InvalidInput(f"k: must be a whole number of candidates (got {k!r})")
        # The session config's own rule (2-32), with its wording.
        config = make_config({**config.to_dict(), "k": int(k)}, stored=True)
    if around is None:
        return config, []
    if isinstance(around, np.ndarray):
        around = around.tolist()
    if isinstance(around, str | bytes) or not isinstance(around, Sequence):
        raise InvalidInput(f"around: expected a list of candidate ids (got {around!r})")
    if not around:
        raise InvalidInput("around: name at least one candidate")
    kept: list[CandidateRecord] = []
    for candidate_id in around:
        if isinstance(candidate_id, bool) or not isinstance(candidate_id, int | np.integer):
            raise InvalidInput(f"around: candidate ids are whole numbers (got {candidate_id!r})")
        if any(c.id == candidate_id for c in kept):
            raise InvalidInput(f"around: candidate #{candidate_id} is named twice")
        candidate = None
        if 0 <= candidate_id < 2**63:  # larger ids would overflow SQLite's integers
            with contextlib.suppress(NotFound):
                candidate = get_candidate(workspace, int(candidate_id))
        if candidate is None:
            raise InvalidInput(f"around: there is no candidate #{candidate_id}")
        if candidate.session_id != session.id:
            raise InvalidInput(
                f"around: candidate #{candidate_id} belongs to session {candidate.session_id}, "
                f"not to {session.id}"
            )
        kept.append(candidate)
    # The precise fit (a kept candidate may be the incumbent) is checked when planning.
    if len(_distinct(kept)) > config.k:
        raise InvalidInput(
            f"around: {len(_distinct(kept))} candidates do not fit in a round of k={config.k} "
            "(ask for a larger k)"
        )
    return config, kept


def _distinct(candidates: list[CandidateRecord]) -> list[CandidateRecord]:
    """The candidates without repeats of the same image (same steering vector and seed)."""
    seen: set[tuple[bytes, int]] = set()
    distinct = []
    for candidate in candidates:
        key = (candidate.steering_vector.tobytes(), candidate.seed)
        if key not in seen:
            seen.add(key)
            distinct.append(candidate)
    return distinct


def plan_round(
    workspace: Workspace,
    session_id: str,
    around: Sequence[int] | None = None,
    k: int | None = None,
) -> RoundPlan:
    """Decide the next round of a session: incumbent, proposed vectors, seeds and lineage.

    `k`: this round's number of candidates (2-32; default: the session's). `around`: ids of
    this session's candidates to build the round around instead of the sampler's proposal:
    slot 0 is the incumbent as always, then each of them re-shown unchanged (role "kept"),
    then variations of them (role "variation"), spread evenly over the remaining slots.

    The plan names the last feedback event it saw (`planned_through_event_id`, also in the
    round's model state): a round planned from a judgment that is withdrawn later is
    never stored (`store_round`) or is discarded (`sessions.withdraw_last_judgment`).
    """
    # One read snapshot: the judgments fitted and the last event named are the same ones,
    # whatever another process stores meanwhile.
    with workspace.db.read_snapshot() as connection:
        session = get_session(workspace, session_id)
        through = judgment_store.last_feedback_event_id(connection, session.id) or 0
        plan = _plan(workspace, session.id, around, k)
    plan.planned_through_event_id = through
    plan.model_state[round_store.PLANNED_THROUGH] = through
    return plan


def _plan(
    workspace: Workspace, session_id: str, around: Sequence[int] | None, k: int | None
) -> RoundPlan:
    session = get_session(workspace, session_id)
    config, kept = check_round_request(workspace, session.id, around, k)
    rounds = get_rounds(workspace, session.id)
    round_index = rounds[-1].round_index + 1 if rounds else 0

    started = time.perf_counter()
    judgments = session_judgments(workspace, session.id)
    model = fit_on_judgments(judgments, config)
    fit_seconds = time.perf_counter() - started

    incumbent = choose_incumbent(workspace, session.id, model)
    incumbent_vector = incumbent.steering_vector if incumbent is not None else np.zeros(config.d)
    # The incumbent of every round is its slot 0: one query, not one per round.
    past = round_store.incumbent_vectors(workspace.db.connection(), session.id)
    incumbent_path = np.array([*past, incumbent_vector.tolist()], dtype=np.float64)
    history = SamplerHistory(
        incumbent=incumbent_vector,
        shown=judgments.X,
        round_index=round_index,
        trust_radius=config.trust_radius,
        incumbent_is_baseline=not np.any(incumbent_vector),
        incumbent_path=incumbent_path,
        rejected_all=latest_round_rejected_all(workspace, session.id),
    )
    seeds = [candidate_seed(config, round_index, slot) for slot in range(config.k)]
    started = time.perf_counter()
    sources: dict[int, CandidateRecord] = {}
    if kept:
        proposal, sources = _propose_around(
            kept, seeds[0] if incumbent is None else incumbent.seed, history, model, config
        )
    else:
        sampler = SAMPLERS.get(config.sampler.name)(**config.sampler.params)
        rng = np.random.default_rng([config.seed, round_index])
        proposal = sampler.propose(history, model, config.k, rng)
    propose_seconds = time.perf_counter() - started
    if proposal.vectors.shape != (config.k, config.d):
        raise InvalidInput(
            f"sampler {config.sampler.name} proposed {proposal.vectors.shape} vectors, "
            f"expected {config.k} x {config.d}"
        )

    parents: list[int | None] = [None if incumbent is None else incumbent.id] * config.k
    reused: dict[int, str] = {}
    if incumbent is not None:
        seeds[0] = incumbent.seed
        parent_session = get_session(workspace, incumbent.session_id)
        # The incumbent is re-shown unchanged when it was rendered with the same settings.
        if incumbent.image_path and _same_rendering(parent_session.config, session.config):
            reused[0] = incumbent.image_path
    for slot, source in sources.items():
        parents[slot] = source.id
        # A kept candidate is from this session, whose rendering settings never change.
        if proposal.roles[slot] == "kept":
            seeds[slot] = source.seed
            if source.image_path:
                reused[slot] = source.image_path
    # A round asked for around chosen candidates shows exactly what was asked: no probe.
    probe_round = (
        config.repeat_probe_every and round_index and round_index % config.repeat_probe_every == 0
    )
    if probe_round and not kept:
        # Its own random stream: switching probes on does not change the sampler's proposals.
        probe_rng = np.random.default_rng([config.seed, round_index, 1])
        pair = choose_probe_pair(judgments, round_index, probe_rng)
        if pair is not None:
            proposal = _insert_probe(workspace, pair, judgments, proposal, seeds, parents, reused)

    state = model.state()
    state.update(_round_state(model, judgments, incumbent, incumbent_path, proposal, config))
    if around is not None or k is not None:
        # Tells the dashboard (and the funnel) that the researcher shaped this round.
        state.update({"around": [c.id for c in kept] or None, "k": k})
    return RoundPlan(
        session_id=session.id,
        round_index=round_index,
        config=config,
        proposal=proposal,
        seeds=seeds,
        parents=parents,
        reused_images=reused,
        model_state=state,
        timings={"fit_seconds": fit_seconds, "propose_seconds": propose_seconds},
    )


def _propose_around(
    kept: list[CandidateRecord],
    incumbent_seed: int,
    history: SamplerHistory,
    model: PreferenceModel,
    config: SessionConfig,
) -> tuple[Proposal, dict[int, CandidateRecord]]:
    """The incumbent, each kept candidate re-shown unchanged (once: not when it is the
    incumbent or another kept one's image), then variations of the kept candidates in turn
    until the round is full; returns the proposal and, per slot, the kept candidate it shows
    or varies.

    A variation is the kept candidate's steering vector plus a random direction of length
    `VARIATION_RADIUS` trust radii (in steering-vector units, as the samplers' radii are)."""
    incumbent = np.asarray(history.incumbent, dtype=np.float64)
    shown = [
        candidate
        for candidate in _distinct(kept)
        if not (
            np.array_equal(candidate.steering_vector, incumbent)
            and candidate.seed == incumbent_seed
        )
    ]
    n_variations = config.k - 1 - len(shown)
    if n_variations < 0:
        raise InvalidInput(
            f"around: {len(shown)} kept candidates and the incumbent do not fit in a round "
            f"of k={config.k} (ask for a larger k)"
        )
    # Its own random stream (like the probes'), so a funnel round replays exactly.
    rng = np.random.default_rng([config.seed, history.round_index, 3])
    radius = VARIATION_RADIUS * history.trust_radius
    vectors: list[np.ndarray] = []
    roles: list[str] = []
    metadata: list[dict[str, Any]] = []
    sources: dict[int, CandidateRecord] = {}
    for candidate in shown:
        sources[1 + len(vectors)] = candidate
        vectors.append(candidate.steering_vector)
        roles.append("kept")
        reason = f"kept candidate {candidate.id}, re-shown unchanged"
        metadata.append({"why": reason, "reason": reason, "around": candidate.id})
    # Every kept candidate is varied, the incumbent too when it was kept; the first ones get
    # one more when the slots do not divide evenly.
    varied = _distinct(kept)
    for index in range(n_variations):
        candidate = varied[index % len(varied)]
        sources[1 + len(vectors)] = candidate
        vectors.append(sample_sphere(candidate.steering_vector, radius, 1, rng)[0])
        roles.append("variation")
        reason = f"variation of candidate {candidate.id}"
        metadata.append({"why": reason, "reason": reason, "around": candidate.id, "radius": radius})
    proposal = incumbent_first(history, model, np.array(vectors), roles, metadata)
    return proposal, sources


def _round_state(
    model: PreferenceModel,
    judgments: Judgments,
    incumbent: CandidateRecord | None,
    incumbent_path: np.ndarray,
    proposal: Proposal,
    config: SessionConfig,
) -> dict[str, Any]:
    """What is stored with the round besides the model: the incumbent's predicted utility,
    the convergence verdict, the value of another round and the rater's consistency."""
    mean, std = model.predict(incumbent_path[-1:])
    verdict = session_verdict(model, incumbent_path)
    value = value_of_another_round(
        model,
        proposal.vectors[0],
        proposal.vectors[1:],
        np.random.default_rng([config.seed, len(incumbent_path), 2]),
    )
    # The value relative to how much utilities differ over what was shown: one scale for
    # every model. Below 1 % (or an "optimal" verdict) another round is not worth it.
    spread = float(np.ptp(model.predict(judgments.X)[0])) if len(judgments.X) > 1 else 0.0
    relative = value / spread if spread > 0 else None
    stop = verdict.status == "optimal" or (relative is not None and relative < 0.01)
    reversal_rate, repeats = judgments.reversal_rate()
    return {
        "incumbent_utility": float(mean[0]),
        "incumbent_uncertainty": float(std[0]),
        "incumbent_candidate_id": None if incumbent is None else incumbent.id,
        "convergence": {
            "status": verdict.status,
            "reason": verdict.reason,
            "evidence": verdict.evidence,
        },
        "value_of_another_round": value,
        "value_relative": relative,
        "recommendation": "stop" if stop else "continue",
        "rater_reversal_rate": reversal_rate,
        "rater_repeats": repeats,
    }


def _insert_probe(
    workspace: Workspace,
    pair: tuple[int, int],
    judgments: Judgments,
    proposal: Proposal,
    seeds: list[int],
    parents: list[int | None],
    reused: dict[int, str],
) -> Proposal:
    """Re-show an earlier compared pair (rows of X) in the last slots, exactly as it was
    shown (vector, seed and image), to measure the rater's consistency."""
    shown = {vector.tobytes() for vector in proposal.vectors[:1]}
    originals = [
        get_candidate(workspace, judgments.candidate_ids[row])
        for row in pair
        if judgments.X[row].tobytes() not in shown
    ]
    if len(proposal.vectors) - len(originals) < 2:
        return proposal  # keep at least one new candidate besides the incumbent
    vectors = proposal.vectors.copy()
    roles = list(proposal.roles)
    metadata = [dict(m) for m in proposal.metadata]
    names = " and ".join(f"#{judgments.candidate_ids[row]}" for row in pair)
    for offset, original in enumerate(originals):
        slot = len(vectors) - len(originals) + offset
        vectors[slot] = original.steering_vector
        roles[slot] = "probe"
        metadata[slot] = {
            "why": f"hidden repeat probe: {names}, compared before, shown again",
            "repeat_of": original.id,
        }
        seeds[slot] = original.seed
        parents[slot] = original.id
        if original.image_path:
            reused[slot] = original.image_path
    return Proposal(vectors=vectors, roles=roles, metadata=metadata)


def _same_rendering(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = (
        "prompt",
        "negative_prompt",
        "generator",
        "width",
        "height",
        "steps",
        "guidance_scale",
        "basis",
        "d",
        "seed",
    )
    return all(a.get(key) == b.get(key) for key in keys)


def steering_space_for(
    config: SessionConfig, generator: Generator, cache: diskcache.Cache | None = None
) -> tuple[Conditioning, SteeringSpace]:
    """The prompt's conditioning and the session's steering space.

    The space is kept in the data root's derived cache, shared by every process: a PCA basis
    encodes dozens of prompt variations, and an SDXL basis at d=64 is tens of MB. Its key
    holds the prompt's own conditioning (a fingerprint of the model, its device and dtype,
    and the prompt) and everything else the basis is built from."""
    base = generator.encode(config.prompt, config.negative_prompt)

    def build() -> SteeringSpace:
        def encode(text: str) -> np.ndarray:
            return generator.encode(text, config.negative_prompt).steerable_vector()

        return build_steering_space(
            config.prompt, base, config.basis, config.d, config.seed, encode
        )

    if cache is None:
        return base, build()
    origin = base.steerable_vector()
    depends_on = {
        "conditioning": hashlib.sha256(origin.tobytes()).hexdigest(),
        "dimension": origin.size,
        "prompt": config.prompt,
        "negative_prompt": config.negative_prompt,
        "basis": config.basis.model_dump(mode="json"),
        "d": config.d,
        "seed": config.seed,
    }
    return base, cached(cache, "steering_space", depends_on, build)


def render_plan(
    plan: RoundPlan,
    generator: Generator,
    reporter: RoundReporter,
    cache: diskcache.Cache | None = None,
) -> dict[int, Any]:
    """Render every slot of the plan that is not re-shown unchanged; slot -> PIL image."""
    config = plan.config
    reporter.phase("encoding prompt")
    base, space = steering_space_for(config, generator, cache)
    slots = [slot for slot in range(config.k) if slot not in plan.reused_images]
    if not slots:
        return {}
    conditionings = space.conditionings(base, plan.proposal.vectors[slots])
    settings = GenerationSettings(
        steps=config.steps,
        guidance_scale=config.guidance_scale,
        height=config.height,
        width=config.width,
    )
    reporter.phase("generating", f"{len(slots)} candidates, {config.steps} steps")
    reporter.render_started(PaceKey.of(generator.describe(), settings))
    images = generator.generate(
        conditionings,
        [plan.seeds[slot] for slot in slots],
        settings,
        on_progress=reporter.step,
        should_cancel=reporter.should_cancel,
    )
    return dict(zip(slots, images, strict=True))


def store_round(
    workspace: Workspace, plan: RoundPlan, images: dict[int, Any]
) -> tuple[RoundRecord, list[CandidateRecord]]:
    """Save the images and insert the round and its candidates in one transaction."""
    token = uuid.uuid4().hex[:6]  # keeps a competing process's images apart
    paths = dict(plan.reused_images)
    for slot, image in images.items():
        paths[slot] = workspace.images.save(
            image, f"images/{plan.session_id}/r{plan.round_index:03d}-{token}/c{slot:02d}.png"
        )
    stamp = now()
    with workspace.db.transaction() as connection:
        latest = round_store.latest_round_index(connection, plan.session_id)
        expected = -1 if latest is None else latest
        if expected + 1 != plan.round_index:
            raise RoundSuperseded(
                f"round {plan.round_index} of session {plan.session_id} was created by another "
                "process meanwhile; ask for the next round again"
            )
        # Checked in the transaction that stores the round: an undo (in any process) either
        # committed before, and is seen here, or comes after and discards this round.
        withdrawn = judgment_store.withdrawn_since(
            connection, plan.session_id, plan.planned_through_event_id
        )
        if withdrawn is not None:
            raise RoundSuperseded(
                f"round {plan.round_index} of session {plan.session_id} was not saved: it was "
                f"planned from judgment #{withdrawn}, which was withdrawn (undo) meanwhile"
            )
        round_id = round_store.insert_round(
            connection,
            RoundRecord(
                id=None,
                session_id=plan.session_id,
                round_index=plan.round_index,
                created_at=stamp,
                incumbent_candidate_id=None,  # slot 0, once it has an id
                model_state=plan.model_state,
                timings=plan.timings,
            ),
        )
        ids = [
            round_store.insert_candidate(
                connection,
                CandidateRecord(
                    id=None,
                    session_id=plan.session_id,
                    round_index=plan.round_index,
                    slot=slot,
                    steering_vector=plan.proposal.vectors[slot],
                    seed=plan.seeds[slot],
                    role=plan.proposal.roles[slot],
                    parent_candidate_id=plan.parents[slot],
                    sampler_metadata=plan.proposal.metadata[slot],
                    image_path=paths.get(slot),  # None for rounds simulated without images
                    created_at=stamp,
                ),
                round_id,
            )
            for slot in range(plan.config.k)
        ]
        round_store.set_incumbent(connection, round_id, ids[0])
    trace.record_events(workspace, plan.session_id, _round_events(plan, ids))
    return get_round(workspace, plan.session_id, plan.round_index)


def _round_events(plan: RoundPlan, candidate_ids: list[int]) -> list[dict[str, Any]]:
    """The trace of a stored round: the model fit, the sampler's proposal, the verdict."""
    state = plan.model_state
    losses = state.get("loss_history") or []
    convergence = state.get("convergence", {})
    return [
        {
            "kind": "model_fit",
            "round_index": plan.round_index,
            "model": plan.config.preference_model.name,
            "n_comparisons": state.get("n_comparisons"),
            "loss": losses[-1] if losses else None,
            "loss_start": losses[0] if losses else None,
            "iterations": len(losses),
            "fit_seconds": plan.timings.get("fit_seconds"),
            "incumbent_utility": state.get("incumbent_utility"),
            "incumbent_uncertainty": state.get("incumbent_uncertainty"),
        },
        {
            "kind": "proposal",
            "round_index": plan.round_index,
            "sampler": plan.config.sampler.name,
            "around": state.get("around"),
            "candidate_ids": candidate_ids,
            "roles": list(plan.proposal.roles),
            "seeds": plan.seeds,
            "parents": plan.parents,
            "metadata": [_scalars(meta) for meta in plan.proposal.metadata],
            "propose_seconds": plan.timings.get("propose_seconds"),
            "generate_seconds": plan.timings.get("generate_seconds"),
        },
        {
            "kind": "convergence",
            "round_index": plan.round_index,
            "status": convergence.get("status"),
            "reason": convergence.get("reason"),
            "evidence": convergence.get("evidence"),
            "recommendation": state.get("recommendation"),
            "value_relative": state.get("value_relative"),
        },
    ]


def _scalars(metadata: dict[str, Any]) -> dict[str, Any]:
    """A sampler's metadata for one candidate without its arrays (the replay keeps those)."""
    return {
        key: value
        for key, value in metadata.items()
        if value is None or isinstance(value, bool | int | float | str | np.number)
    }


def generate_round(
    workspace: Workspace,
    generator: Generator,
    session_id: str,
    reporter: RoundReporter | None = None,
    around: Sequence[int] | None = None,
    k: int | None = None,
) -> tuple[RoundRecord, list[CandidateRecord]]:
    """Plan, render and store the next round of a session (`around`, `k`: see `plan_round`)."""
    reporter = reporter or RoundReporter()
    reporter.phase("fitting", "preference model on all judgments")
    plan = plan_round(workspace, session_id, around=around, k=k)
    if plan.reused_images:
        reporter.phase("checking", f"{len(plan.reused_images)} re-shown images")
        for slot, path in list(plan.reused_images.items()):
            if not workspace.images.exists(path):
                # Removed (e.g. by `steer gc --images`): rendered again from its seed and
                # vector, which give the same image on the same generator.
                del plan.reused_images[slot]
                continue
            workspace.images.load(path)  # a damaged image stops the round with its name
    started = time.perf_counter()
    images = render_plan(plan, generator, reporter, workspace.derived)
    plan.timings["generate_seconds"] = time.perf_counter() - started
    if reporter.should_cancel():
        raise JobCancelled("round cancelled before it was saved")
    reporter.phase("saving artifacts", f"{len(images)} images")
    return store_round(workspace, plan, images)
