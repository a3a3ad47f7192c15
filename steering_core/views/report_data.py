"""What the HTML report of a session shows, as plain text and numbers: the session view plus
its settings, per-round facts, judgment statistics and curves. No markup here: the report's
templates escape every value they print."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from steering_core.sessions import fork_origin, setting_changes
from steering_core.space_view import label_statistics
from steering_core.storage.records import CandidateRecord, SessionRecord
from steering_core.storage.workspace import Workspace
from steering_core.views.curve_tables import curve_series
from steering_core.views.curve_values import VERDICT_COLOURS
from steering_core.views.judgment_words import card_name
from steering_core.views.report_curves import Curve, report_curves
from steering_core.views.session_view import SessionView, session_view

MISSING = "\u2013"  # an en dash stands for a value that is not there
_ABSOLUTE = re.compile(r"^(/|[A-Za-z]:[\\/]|\\\\)")


@dataclass(frozen=True)
class Verdict:
    """A round's convergence verdict as shown: its word and colour, and the reason."""

    status: str
    colour: str
    reason: str = ""


@dataclass(frozen=True)
class RoundFacts:
    """The model and convergence state stored with a round: the facts before the verdict,
    the verdict, and the facts after it (each a short phrase)."""

    before: tuple[str, ...]
    verdict: Verdict | None
    after: tuple[str, ...]


@dataclass(frozen=True)
class SessionReport:
    """Everything the report shows, read from the session's own stored data."""

    view: SessionView
    settings: tuple[tuple[str, str], ...]
    negative_prompt: str
    changes: tuple[str, ...]  # each settings change: "from round N: {json}"
    full_config: str
    facts: dict[int, RoundFacts]  # round index -> its facts
    statistics: tuple[tuple[str, str], ...]
    latest_verdict: tuple[int, Verdict, str] | None  # (round, verdict, recommendation)
    curves: tuple[Curve, ...]


def time_text(stamp: str) -> str:
    """A stored ISO time as "YYYY-MM-DD HH:MM:SS"."""
    return stamp[:19].replace("T", " ")


def number_text(value: Any, digits: int = 3) -> str:
    if value is None:
        return MISSING
    return f"{float(value):.{digits}g}"


def portable_config(value: Any) -> Any:
    """The config with every absolute path shortened to its last part (a local checkpoint
    folder), so that no path of the exporting machine appears in the page."""
    if isinstance(value, dict):
        return {key: portable_config(item) for key, item in value.items()}
    if isinstance(value, list):
        return [portable_config(item) for item in value]
    if isinstance(value, str) and _ABSOLUTE.match(value):
        return "…/" + re.split(r"[\\/]", value.rstrip("\\/"))[-1]
    return value


def _plugin(config: dict[str, Any], key: str) -> str:
    plugin = config.get(key) or {}
    params = plugin.get("params") or {}
    text = str(plugin.get("name", MISSING))
    if params:
        text += " (" + ", ".join(f"{k}={v}" for k, v in sorted(params.items())) + ")"
    return text


def _settings(
    session: SessionRecord, rounds: int, judgments: int, origin: CandidateRecord | None = None
) -> list[tuple[str, str]]:
    """The settings table after the session's id: (name, value) as text."""
    config = portable_config(session.config)
    generator = config.get("generator") or {}
    model = generator.get("model")
    size = (
        f"{config['width']}x{config['height']}"
        if config.get("width") and config.get("height")
        else "the model's default"
    )
    rows = [("Name", session.name)] if session.name else []
    rows += [
        ("Created (UTC)", time_text(session.created_at)),
        ("Source", str(session.source)),
        ("Generator", str(generator.get("backend", MISSING)) + (f" · {model}" if model else "")),
        (
            "Rendering",
            f"{size}, {config.get('steps')} steps, guidance {config.get('guidance_scale')}",
        ),
        ("Sampler", _plugin(config, "sampler")),
        ("Preference model", _plugin(config, "preference_model")),
        ("Feedback mode", str(config.get("feedback_mode", MISSING))),
        ("k (candidates per round)", str(config.get("k"))),
        ("d (steering dimensions)", str(config.get("d"))),
        ("Basis", str((config.get("basis") or {}).get("kind", MISSING))),
        ("Trust radius", str(config.get("trust_radius"))),
        ("Seeds", f"{config.get('seed_policy')} from seed {config.get('seed')}"),
        ("Rounds · judgments", f"{rounds} · {judgments}"),
    ]
    if origin is not None:  # one number per candidate: its card number in its round
        rows.append(
            (
                "Forked from",
                f"{card_name(origin)} of session #{origin.session_id}",
            )
        )
    elif session.forked_from_candidate_id is not None:  # its parent is gone
        rows.append(
            ("Forked from", f"a candidate no longer stored (id {session.forked_from_candidate_id})")
        )
    return rows


def verdict(status: str | None, reason: str | None = None) -> Verdict:
    return Verdict(status or "none yet", VERDICT_COLOURS.get(status or "", "#495057"), reason or "")


def _round_facts(series: dict[str, list], position: int, state: dict[str, Any]) -> RoundFacts:
    before = [f"model {series['model'][position] or MISSING}"]
    if state.get("n_comparisons") is not None:
        before.append(f"{state['n_comparisons']} comparisons")
    utility = series["incumbent_utility"][position]
    if utility is not None:
        before.append(
            f"incumbent utility {number_text(utility)} ± "
            f"{number_text(series['incumbent_uncertainty'][position], 2)}"
        )
    status = series["convergence_status"][position]
    shown = verdict(status, series["convergence_reason"][position]) if status else None
    after = []
    step = series["step_size"][position]
    if step is not None:
        after.append(f"step {number_text(step)}")
    value = series["value_relative"][position]
    if value is not None:
        after.append(f"value of another round {number_text(100 * value)} %")
    recommendation = series["recommendation"][position]
    if recommendation:
        after.append(f"→ {recommendation}")
    return RoundFacts(tuple(before), shown, tuple(after))


def _statistics(stats: dict[str, Any]) -> list[tuple[str, str]]:
    by_mode = ", ".join(f"{mode} {n}" for mode, n in stats["by_mode"].items()) or "none"
    by_source = ", ".join(f"{source} {n}" for source, n in stats["by_source"].items()) or "none"
    by_label = ", ".join(f"{label} {n}" for label, n in stats["by_label"].items())
    return [
        ("Judgments", f"{stats['judgments']} ({by_mode})"),
        ("Undone", str(stats["undone"])),
        ("Given by", by_source),
        ("Candidates shown", str(stats["candidates_shown"])),
        ("Candidates judged", str(stats["candidates_judged"])),
        ("Candidates by outcome", by_label),
    ]


def _latest_verdict(series: dict[str, list]) -> tuple[int, Verdict, str] | None:
    rounds = series.get("round_index") or []
    if not rounds:
        return None
    status = series["convergence_status"][-1]
    return (
        int(rounds[-1]),
        verdict(status, series["convergence_reason"][-1]),
        series["recommendation"][-1] or "",
    )


def report_data(workspace: Workspace, session_id: str | None) -> SessionReport:
    """Read everything the report of a session shows (None or "latest": the newest one)."""
    view = session_view(workspace, session_id, other_sessions=False)
    session = view.session
    series = curve_series(workspace, session.id)
    statistics = label_statistics(workspace, session.id)["session"]
    changes = tuple(
        f"from round {change['from_round']}: "
        + json.dumps(portable_config(change["changes"]), sort_keys=True)
        for change in setting_changes(workspace, session.id)
    )
    facts = {
        shown.round_index: _round_facts(series, position, shown.record.model_state)
        for position, shown in enumerate(view.rounds)
    }
    config = portable_config(session.config)
    return SessionReport(
        view=view,
        settings=tuple(
            _settings(
                session,
                len(view.rounds),
                statistics["judgments"],
                fork_origin(workspace, session),
            )
        ),
        negative_prompt=str(config.get("negative_prompt") or ""),
        changes=changes,
        full_config=json.dumps(config, indent=2, sort_keys=True, ensure_ascii=False),
        facts=facts,
        statistics=tuple(_statistics(statistics)),
        latest_verdict=_latest_verdict(series),
        curves=tuple(report_curves(series)) if view.rounds else (),
    )
