"""A session as one self-contained, offline HTML page: its settings, the final choice and its
lineage, the curves (Plotly's JavaScript inline), and every round's candidates with the
judgments they got.

The page depends on the session's own stored data only (never on other sessions of the data
root, the clock or the machine), so the same stored session always gives the same bytes.
"""

from __future__ import annotations

import html
import json
import logging
import re
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import plotly.io as pio
from plotly.offline import get_plotlyjs

from steering_core import __version__
from steering_core.curve_values import VERDICT_COLOURS
from steering_core.errors import InvalidInput, NotFound, error_kind
from steering_core.exports.report_figures import Curve, report_curves
from steering_core.exports.report_words import judgment_line, received
from steering_core.incumbent import choose_incumbent, fit_preference_model, shown_incumbent
from steering_core.samplers.base import ROLE_BADGE_COLOURS
from steering_core.sessions import (
    get_candidates,
    get_feedback_events,
    get_rounds,
    get_session,
    load_session_config,
    setting_changes,
)
from steering_core.space_view import label_statistics, round_series
from steering_core.storage.records import (
    CandidateRecord,
    FeedbackEventRecord,
    RoundRecord,
    SessionRecord,
)
from steering_core.storage.workspace import Workspace

logger = logging.getLogger(__name__)

REPORT_FILE = "report.html"
# Stored images live under this folder of the data root; the report copies only from there.
IMAGES_FOLDER = "images"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
MISSING = "\u2013"  # an en dash stands for a value that is not there


def _same_href(image_path: str) -> str:
    return image_path


# --- what the report shows ---------------------------------------------------------------
@dataclass(frozen=True)
class LineageStep:
    """One step of the final choice's lineage: the candidate that first showed a steering
    vector and seed, and every round of this session that showed it (re-shown incumbents
    are the same image, so they are one step)."""

    candidate: CandidateRecord
    rounds: tuple[int, ...]


@dataclass(frozen=True)
class SessionReport:
    """Everything the page shows, read from the session's own stored data."""

    session: SessionRecord
    rounds: list[RoundRecord]
    candidates: dict[int, list[CandidateRecord]]  # round index -> candidates in slot order
    events: dict[int, list[FeedbackEventRecord]]  # round index -> judgments (undo markers left out)
    series: dict[str, list]
    statistics: dict[str, Any]
    changes: list[dict[str, Any]]
    final_choice: CandidateRecord | None
    final_note: str
    lineage: list[LineageStep]
    lineage_parent: int | None  # the candidate of another session the lineage continues in
    by_id: dict[int, CandidateRecord]  # every candidate of the session
    carried_to: dict[int, int]  # candidate id -> the round that re-shows it as incumbent


def _final_choice(
    workspace: Workspace, session: SessionRecord, has_rounds: bool
) -> tuple[CandidateRecord | None, str]:
    """(the incumbent the next round would re-show, a note): the dashboard's choice, from
    the preference model fitted on every judgment; the latest round's incumbent when the
    model cannot be fitted here (a plug-in this machine lacks, a failing fit)."""
    if not has_rounds:
        return None, "no round yet"
    try:
        config = load_session_config(session)
        model, _, _ = fit_preference_model(workspace, session.id, config)
        return choose_incumbent(workspace, session.id, model), ""
    except Exception as error:
        # The rounds are still worth reading when the model cannot be fitted.
        logger.warning("report: could not fit the preference model of %s: %s", session.id, error)
        return shown_incumbent(workspace, session.id), (
            f"the preference model could not be fitted here ({error_kind(error)}); "
            "showing the latest round's incumbent"
        )


def _lineage(
    final: CandidateRecord | None, by_id: dict[int, CandidateRecord]
) -> tuple[list[LineageStep], int | None]:
    """The final choice's ancestors inside this session, oldest first, re-showings merged;
    and the id of the ancestor in another session (a fork's origin) where it continues."""
    if final is None:
        return [], None
    chain = [final]
    seen = {final.id}
    while chain[-1].parent_candidate_id in by_id and chain[-1].parent_candidate_id not in seen:
        chain.append(by_id[chain[-1].parent_candidate_id])
        seen.add(chain[-1].id)
    outside = chain[-1].parent_candidate_id
    steps: list[LineageStep] = []
    for candidate in reversed(chain):
        if steps and _same_image(steps[-1].candidate, candidate):
            previous = steps[-1]
            steps[-1] = LineageStep(previous.candidate, (*previous.rounds, candidate.round_index))
        else:
            steps.append(LineageStep(candidate, (candidate.round_index,)))
    return steps, outside if outside not in by_id else None


def _same_image(a: CandidateRecord, b: CandidateRecord) -> bool:
    return a.seed == b.seed and a.steering_vector.tobytes() == b.steering_vector.tobytes()


def _carried_to(
    rounds: list[RoundRecord], candidates: dict[int, list[CandidateRecord]]
) -> dict[int, int]:
    """Candidate id -> the round that re-shows it as its incumbent (its slot 0's parent)."""
    carried: dict[int, int] = {}
    for record in rounds:
        shown = candidates.get(record.round_index) or []
        if shown and shown[0].slot == 0 and shown[0].parent_candidate_id is not None:
            carried.setdefault(shown[0].parent_candidate_id, record.round_index)
    return carried


def collect_report(workspace: Workspace, session_id: str | None) -> SessionReport:
    """Read everything the report of a session shows (None or "latest": the newest one)."""
    session = get_session(workspace, session_id)
    rounds = get_rounds(workspace, session.id)
    candidates: dict[int, list[CandidateRecord]] = defaultdict(list)
    for candidate in get_candidates(workspace, session.id):
        candidates[candidate.round_index].append(candidate)
    events: dict[int, list[FeedbackEventRecord]] = defaultdict(list)
    for event in get_feedback_events(workspace, session.id):
        if event.mode != "undo":  # an undo shows as its judgment struck through
            events[event.round_index].append(event)
    final, note = _final_choice(workspace, session, bool(rounds))
    by_id = {c.id: c for shown in candidates.values() for c in shown}
    lineage, parent = _lineage(final, by_id)
    return SessionReport(
        session=session,
        rounds=rounds,
        candidates=dict(candidates),
        events=dict(events),
        series=round_series(workspace, session.id),
        statistics=label_statistics(workspace, session.id)["session"],
        changes=setting_changes(workspace, session.id),
        final_choice=final,
        final_note=note,
        lineage=lineage,
        lineage_parent=parent,
        by_id=by_id,
        carried_to=_carried_to(rounds, candidates),
    )


# --- images ------------------------------------------------------------------------------
class _Images:
    """The `<img>` of a stored image (or a placeholder card when it is gone), and the stored
    relative paths of the images the page shows."""

    def __init__(self, workspace: Workspace, href: Callable[[str], str]) -> None:
        self.workspace = workspace
        self.href = href
        self.shown: set[str] = set()
        self._present: dict[str, bool] = {}

    def present(self, image_path: str) -> bool:
        """Whether a stored image can be shown: a file under `images/` of the data root."""
        if image_path not in self._present:
            self._present[image_path] = _portable_image_path(image_path) and _exists(
                self.workspace, image_path
            )
        return self._present[image_path]

    def tag(self, candidate: CandidateRecord, css: str = "image") -> str:
        alt = f"round {candidate.round_index}, candidate {candidate.slot + 1}"
        path = candidate.image_path
        if path is None:
            return _placeholder(css, "no image: this round was simulated without rendering")
        if not self.present(path):
            return _placeholder(
                css, f"image removed — regenerable from seed {candidate.seed} and its vector"
            )
        self.shown.add(path)
        return (
            f'<img class="{css}" src="{_e(self.href(path))}" alt="{_e(alt)}" loading="lazy" '
            'decoding="async">'
        )


def _portable_image_path(image_path: str) -> bool:
    """A relative path inside `images/` with no `..` (anything else is not copied)."""
    path = PurePosixPath(image_path)
    return (
        not path.is_absolute()
        and "\\" not in image_path
        and len(path.parts) > 1
        and path.parts[0] == IMAGES_FOLDER
        and ".." not in path.parts
    )


def _exists(workspace: Workspace, image_path: str) -> bool:
    try:
        return workspace.images.resolve(image_path).is_file()
    except NotFound:
        return False


def _placeholder(css: str, text: str) -> str:
    return (
        f'<div class="{css} missing" role="img" aria-label="{_e(text)}">'
        f"<span>{_e(text)}</span></div>"
    )


# --- HTML --------------------------------------------------------------------------------
def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _time(stamp: str) -> str:
    return stamp[:19].replace("T", " ")


def _number(value: Any, digits: int = 3) -> str:
    if value is None:
        return MISSING
    return f"{float(value):.{digits}g}"


_ABSOLUTE = re.compile(r"^(/|[A-Za-z]:[\\/]|\\\\)")


def _portable_config(value: Any) -> Any:
    """The config with every absolute path shortened to its last part (a local checkpoint
    folder), so that no path of the exporting machine appears in the page."""
    if isinstance(value, dict):
        return {key: _portable_config(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_portable_config(item) for item in value]
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


def _header(report: SessionReport) -> str:
    session = report.session
    config = _portable_config(session.config)
    generator = config.get("generator") or {}
    model = generator.get("model")
    size = (
        f"{config['width']}x{config['height']}"
        if config.get("width") and config.get("height")
        else "the model's default"
    )
    judgments = report.statistics["judgments"]
    rows = [
        ("Session", f"<code>{_e(session.id)}</code>"),
        ("Created (UTC)", _e(_time(session.created_at))),
        ("Source", _e(session.source)),
        ("Generator", _e(generator.get("backend", MISSING) + (f" · {model}" if model else ""))),
        (
            "Rendering",
            _e(f"{size}, {config.get('steps')} steps, guidance {config.get('guidance_scale')}"),
        ),
        ("Sampler", _e(_plugin(config, "sampler"))),
        ("Preference model", _e(_plugin(config, "preference_model"))),
        ("Feedback mode", _e(config.get("feedback_mode", MISSING))),
        ("k (candidates per round)", _e(config.get("k"))),
        ("d (steering dimensions)", _e(config.get("d"))),
        ("Basis", _e((config.get("basis") or {}).get("kind", MISSING))),
        ("Trust radius", _e(config.get("trust_radius"))),
        ("Seeds", _e(f"{config.get('seed_policy')} from seed {config.get('seed')}")),
        ("Rounds · judgments", _e(f"{len(report.rounds)} · {judgments}")),
    ]
    if session.forked_from_candidate_id is not None:
        rows.append(("Forked from", _e(f"candidate #{session.forked_from_candidate_id}")))
    negative = config.get("negative_prompt") or ""
    table = "".join(f"<tr><th>{_e(name)}</th><td>{value}</td></tr>" for name, value in rows)
    changes = ""
    if report.changes:
        items = "".join(
            f"<li>from round {change['from_round']}: "
            f"<code>{_e(json.dumps(_portable_config(change['changes']), sort_keys=True))}"
            "</code></li>"
            for change in report.changes
        )
        changes = f'<p class="muted">Settings changed during the session:</p><ul>{items}</ul>'
    full = json.dumps(config, indent=2, sort_keys=True, ensure_ascii=False)
    return (
        '<header id="top" class="panel">'
        '<p class="kicker">StableSteering session report</p>'
        f"<h1>{_e(session.prompt or '(no prompt)')}</h1>"
        + (f'<p class="negative">Negative prompt: {_e(negative)}</p>' if negative else "")
        + f'<table class="settings">{table}</table>{changes}'
        "<details><summary>Full configuration</summary>"
        f"<pre>{_e(full)}</pre></details></header>"
    )


def _contents(report: SessionReport) -> str:
    return (
        '<nav class="contents panel" aria-label="contents">'
        '<a href="#final">Final choice</a> · <a href="#curves">Curves</a> · '
        '<a href="#judgments">Judgments</a> · <a href="#rounds">Rounds</a>'
        f"{_round_index(report)}</nav>"
    )


def _active(events: Iterable[FeedbackEventRecord]) -> list[FeedbackEventRecord]:
    return [e for e in events if e.undone_at is None]


def _round_index(report: SessionReport) -> str:
    """One link per round; rounds a new incumbent came from stand out, unjudged ones fade."""
    if not report.rounds:
        return ""
    carried = report.carried_to
    links = []
    for record in report.rounds:
        index = record.round_index
        shown = report.candidates.get(index) or []
        classes = ["round-link"]
        title = f"round {index}"
        if any(c.slot != 0 and c.id in carried for c in shown):
            classes.append("moved")
            title += ": a new incumbent came from here"
        if not _active(report.events.get(index, [])):
            classes.append("unjudged")
            title += " (not judged)"
        links.append(
            f'<a class="{" ".join(classes)}" href="#round-{index}" title="{_e(title)}">{index}</a>'
        )
    return (
        '<div id="round-index" class="round-index"><span class="label">Rounds</span>'
        + "".join(links)
        + '<span class="legend"><span class="swatch moved"></span> a new incumbent came from '
        'this round <span class="swatch unjudged"></span> not judged</span></div>'
    )


def _final_section(report: SessionReport, images: _Images) -> str:
    final = report.final_choice
    if final is None:
        body = f'<p class="muted">No final choice: {_e(report.final_note)}.</p>'
        return f'<section id="final" class="panel"><h2>Final choice</h2>{body}</section>'
    where = f"round {final.round_index}, candidate {final.slot + 1}"
    note = (
        f'<p class="note">{_e(report.final_note)}.</p>'
        if report.final_note
        else '<p class="muted">What the next round would re-show as its incumbent: the '
        "preference model fitted on every judgment picks among the last judged round's "
        "winners and the current incumbent.</p>"
    )
    steps = []
    for number, step in enumerate(report.lineage):
        candidate = step.candidate
        rounds = ", ".join(str(r) for r in step.rounds)
        label = "round" if len(step.rounds) == 1 else "rounds"
        caption = (
            f"<b>{label} {_e(rounds)}</b><br>candidate {candidate.slot + 1} · "
            f"#{candidate.id}<br>{_e(candidate.role)}"
        )
        arrow = '<span class="arrow" aria-hidden="true">→</span>' if number else ""
        steps.append(
            f'{arrow}<a class="lineage-step" href="#round-{step.rounds[0]}" '
            f'title="{_e(f"shown in {label} {rounds}")}">'
            f"{images.tag(candidate, 'thumb')}<span>{caption}</span></a>"
        )
    if report.lineage_parent is not None:
        parent = (
            '<p class="muted">The lineage continues in the session this one was forked from '
            f"(candidate #{report.lineage_parent}).</p>"
        )
    else:
        parent = ""
    return (
        '<section id="final" class="panel"><h2>Final choice</h2>'
        f'<div class="final-choice">{images.tag(final, "final-image")}'
        f'<div><p class="big"><a href="#candidate-{final.id}">{_e(where)}</a> '
        f'<span class="muted">(candidate #{final.id}, seed {final.seed})</span></p>{note}'
        f"<p>{_e(_vector(final))}</p></div></div>"
        "<h3>Lineage, from round 0 to the final choice</h3>"
        f'<div class="lineage">{"".join(steps)}</div>{parent}</section>'
    )


def _vector(candidate: CandidateRecord) -> str:
    values = ", ".join(f"{v:.3f}" for v in candidate.steering_vector.tolist())
    return f"steering vector [{values}]"


def _figure_json(curve: Curve) -> str:
    """The figure as JSON that is safe inside a <script> element."""
    text = pio.to_json(curve.figure, validate=False, remove_uids=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _curves_section(report: SessionReport) -> str:
    if not report.rounds:
        return (
            '<section id="curves" class="panel"><h2>Curves</h2>'
            '<p class="muted">No rounds yet: nothing to draw.</p></section>'
        )
    blocks = []
    for curve in report_curves(report.series):
        if curve.figure is None:
            body = f'<p class="empty">{_e(curve.empty)}</p>'
        else:
            body = (
                f'<div class="plot" id="plot-{curve.key}"></div>'
                f'<script type="application/json" class="figure-data" '
                f'data-target="plot-{curve.key}">{_figure_json(curve)}</script>'
            )
        blocks.append(
            f'<figure class="curve" id="curve-{curve.key}">'
            f"<figcaption>{_e(curve.title)}</figcaption>{body}</figure>"
        )
    return (
        '<section id="curves" class="panel"><h2>Curves</h2>'
        f'<p class="verdict">{_verdict_line(report.series)}</p>'
        f'<div class="curves">{"".join(blocks)}</div></section>'
    )


def _verdict(status: str | None) -> str:
    colour = VERDICT_COLOURS.get(status or "", "#495057")
    return f'<b style="color:{colour}">{_e(status or "none yet")}</b>'


def _verdict_line(series: dict[str, list]) -> str:
    rounds = series.get("round_index") or []
    if not rounds:
        return ""
    status = series["convergence_status"][-1]
    reason = series["convergence_reason"][-1]
    recommendation = series["recommendation"][-1]
    text = f"Latest round ({rounds[-1]}): verdict {_verdict(status)}"
    if reason:
        text += f" — {_e(reason)}"
    if recommendation:
        text += f"; recommendation: <b>{_e(recommendation)}</b>"
    return text


def _statistics_section(report: SessionReport) -> str:
    stats = report.statistics
    by_mode = ", ".join(f"{mode} {n}" for mode, n in stats["by_mode"].items()) or "none"
    by_source = ", ".join(f"{source} {n}" for source, n in stats["by_source"].items()) or "none"
    by_label = ", ".join(f"{label} {n}" for label, n in stats["by_label"].items())
    rows = [
        ("Judgments", f"{stats['judgments']} ({by_mode})"),
        ("Undone", stats["undone"]),
        ("Given by", by_source),
        ("Candidates shown", stats["candidates_shown"]),
        ("Candidates judged", stats["candidates_judged"]),
        ("Candidates by outcome", by_label),
    ]
    table = "".join(f"<tr><th>{_e(name)}</th><td>{_e(value)}</td></tr>" for name, value in rows)
    return (
        '<section id="judgments" class="panel"><h2>Judgments</h2>'
        f'<table class="settings">{table}</table></section>'
    )


def _round_facts(report: SessionReport, position: int, record: RoundRecord) -> str:
    """The model and convergence state stored with a round, in one line."""
    series = report.series
    state = record.model_state
    parts = [f"model {_e(series['model'][position] or MISSING)}"]
    if state.get("n_comparisons") is not None:
        parts.append(f"{_e(state['n_comparisons'])} comparisons")
    utility = series["incumbent_utility"][position]
    if utility is not None:
        parts.append(
            f"incumbent utility {_number(utility)} ± "
            f"{_number(series['incumbent_uncertainty'][position], 2)}"
        )
    status = series["convergence_status"][position]
    if status:
        reason = series["convergence_reason"][position]
        parts.append(f"verdict {_verdict(status)}" + (f" ({_e(reason)})" if reason else ""))
    step = series["step_size"][position]
    if step is not None:
        parts.append(f"step {_number(step)}")
    value = series["value_relative"][position]
    if value is not None:
        parts.append(f"value of another round {_number(100 * value)} %")
    recommendation = series["recommendation"][position]
    if recommendation:
        parts.append(f"→ {_e(recommendation)}")
    return " · ".join(parts)


def _card(
    candidate: CandidateRecord,
    words: list[tuple[str, bool]],
    report: SessionReport,
    images: _Images,
) -> str:
    badge_class = ROLE_BADGE_COLOURS.get(candidate.role, "light")
    badges = [f'<span class="badge {badge_class}">{_e(candidate.role)}</span>']
    classes = ["card"]
    if candidate.slot == 0 and candidate.role != "incumbent":
        # Round 0's incumbent is the prompt itself (role "baseline"): mark it all the same.
        badges.append(
            '<span class="badge outline" title="the round\'s incumbent">★ incumbent</span>'
        )
    final = report.final_choice is not None and report.final_choice.id == candidate.id
    if final:
        badges.append('<span class="badge danger">final choice</span>')
        classes.append("final")
    notes = []
    to_round = report.carried_to.get(candidate.id)
    if to_round is not None and candidate.slot != 0:
        classes.append("carried")
        notes.append(
            f'<a class="carried-link" href="#round-{to_round}">'
            f"carried forward → round {to_round}</a>"
        )
    if candidate.slot == 0 and candidate.parent_candidate_id is not None:
        parent = report.by_id.get(candidate.parent_candidate_id)
        if parent is not None:
            notes.append(
                f'<a href="#round-{parent.round_index}">from round {parent.round_index}, '
                f"candidate {parent.slot + 1}</a>"
            )
        else:
            notes.append(f"from candidate #{candidate.parent_candidate_id} of the parent session")
    judged = (
        "".join(
            f"<li{' class=undone title=undone' if undone else ''}>"
            + (f"<del>{_e(text)}</del>" if undone else _e(text))
            + "</li>"
            for text, undone in words
        )
        or '<li class="muted">no judgment</li>'
    )
    metadata = candidate.sampler_metadata
    why = metadata.get("why") or metadata.get("reason") or ""
    predicted = ""
    if metadata.get("predicted_utility") is not None:
        predicted = (
            f"predicted {_number(metadata['predicted_utility'])} ± "
            f"{_number(metadata.get('uncertainty'), 2)}"
        )
    facts = " · ".join(
        part for part in (f"#{candidate.id}", f"seed {candidate.seed}", predicted) if part
    )
    return (
        f'<article class="{" ".join(classes)}" id="candidate-{candidate.id}">'
        f'<div class="card-head"><span class="slot">{candidate.slot + 1}</span>'
        f"{''.join(badges)}</div>"
        f"{images.tag(candidate)}"
        f'<ul class="received">{judged}</ul>'
        + (f'<p class="notes">{" · ".join(notes)}</p>' if notes else "")
        + f'<p class="facts" title="{_e(why)}">{_e(facts)}</p></article>'
    )


def _round_section(
    report: SessionReport, position: int, record: RoundRecord, images: _Images
) -> str:
    index = record.round_index
    shown = report.candidates.get(index) or []
    slots = {c.id: c.slot for c in shown}
    events = report.events.get(index, [])
    words: dict[int, list[tuple[str, bool]]] = defaultdict(list)
    lines = []
    for event in events:
        undone = event.undone_at is not None
        for candidate_id, phrases in received(event, slots).items():
            words[candidate_id] += [(phrase, undone) for phrase in phrases]
        line = _e(judgment_line(event, slots))
        if undone:
            lines.append(
                f'<li class="undone"><del>{line}</del> <span class="muted">(undone)</span></li>'
            )
        else:
            lines.append(f"<li>{line}</li>")
    judgments = "".join(lines) or '<li class="muted">not judged</li>'
    cards = "".join(_card(c, words.get(c.id, []), report, images) for c in shown)
    return (
        f'<section class="round panel" id="round-{index}">'
        f'<div class="round-head"><h3>Round {index}</h3>'
        f'<span class="muted">{_e(_time(record.created_at))} UTC</span>'
        '<a class="up" href="#round-index">↑ rounds</a></div>'
        f'<p class="facts">{_round_facts(report, position, record)}</p>'
        f'<ul class="judgments">{judgments}</ul>'
        f'<div class="grid">{cards}</div></section>'
    )


def _rounds_section(report: SessionReport, images: _Images) -> str:
    if not report.rounds:
        return '<section id="rounds"><h2>Rounds</h2><p class="muted">No rounds yet.</p></section>'
    sections = "".join(
        _round_section(report, position, record, images)
        for position, record in enumerate(report.rounds)
    )
    return f'<section id="rounds"><h2>Rounds</h2>{sections}</section>'


_RENDER_FIGURES = """
document.querySelectorAll('script.figure-data').forEach(function (data) {
  var figure = JSON.parse(data.textContent);
  Plotly.newPlot(data.dataset.target, figure.data, figure.layout, %s);
});
"""


def _page(report: SessionReport, images: _Images) -> str:
    session = report.session
    body = "".join(
        (
            _header(report),
            _contents(report),
            _final_section(report, images),
            _curves_section(report),
            _statistics_section(report),
            _rounds_section(report, images),
        )
    )
    title = f"{session.prompt or 'session'} — StableSteering report {session.id}"
    config = json.dumps(PLOTLY_CONFIG, sort_keys=True)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main>"
        f'<footer class="muted">Written by StableSteering {_e(__version__)} from the session\'s '
        "stored data. Works offline: every image sits beside this page, and Plotly is "
        "inline.</footer>"
        "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>"
        f"<script>{get_plotlyjs()}</script>"
        f"<script>{_RENDER_FIGURES % config}</script>"
        "</body></html>\n"
    )


def _render(
    workspace: Workspace, session_id: str | None, image_href: Callable[[str], str]
) -> tuple[str, list[str]]:
    report = collect_report(workspace, session_id)
    images = _Images(workspace, image_href)
    page = _page(report, images)
    return page, sorted(images.shown)


def render_report(
    workspace: Workspace,
    session_id: str | None,
    image_href: Callable[[str], str] = _same_href,
) -> str:
    """The whole HTML report of a session (None or "latest": the newest one).

    `image_href` turns a stored relative image path (`images/...`) into the `src` the page
    uses; by default the path itself, relative to the page. Images that are gone from the
    data root show as a placeholder card saying they can be regenerated from their seed."""
    return _render(workspace, session_id, image_href)[0]


def write_report(workspace: Workspace, session_id: str | None, folder: Path) -> Path:
    """Write `folder/report.html` and, beside it at their stored relative paths
    (`folder/images/...`), the images it shows; returns the report's path.

    Files already in `folder` are overwritten; the CLI refuses a folder that is not empty."""
    page, shown = _render(workspace, session_id, _same_href)
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InvalidInput(f"out: {folder} is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    for image_path in shown:
        target = folder / image_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(workspace.images.resolve(image_path), target)
    path = folder / REPORT_FILE
    path.write_text(page, encoding="utf-8")
    return path


# A calm page for long reading: the dashboard's palette, system fonts (nothing fetched).
STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body {
  margin: 0; background: #f6f7f9; color: #212529;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
main { max-width: 1240px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.6rem; margin: 0 0 6px; font-weight: 600; }
h2 { font-size: 1.25rem; margin: 0 0 10px; font-weight: 600; }
h3 { font-size: 1.05rem; margin: 0; font-weight: 600; }
a { color: #0d6efd; text-decoration: none; }
a:hover { text-decoration: underline; }
code, pre {
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.85rem;
}
pre { background: #f8f9fa; padding: 8px; border-radius: 6px; overflow-x: auto; }
.panel {
  background: #fff; border-radius: 8px; padding: 14px 16px; margin-bottom: 14px;
  box-shadow: 0 1px 2px rgba(0, 0, 0, 0.08);
}
.kicker {
  margin: 0; color: #6c757d; font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.06em;
}
.negative { color: #6c757d; margin: 0 0 8px; }
.muted { color: #6c757d; }
.note { color: #8a5a00; background: #fff6e0; padding: 4px 8px; border-radius: 4px; }
.settings { border-collapse: collapse; font-size: 0.9rem; }
.settings th {
  text-align: left; font-weight: 600; padding: 2px 16px 2px 0; vertical-align: top;
  white-space: nowrap;
}
.settings td { padding: 2px 0; }
details { margin-top: 8px; }
summary { cursor: pointer; color: #495057; }
.contents { font-size: 0.9rem; }
.round-index { display: flex; flex-wrap: wrap; align-items: center; gap: 3px; margin-top: 6px; }
.round-index .label { font-weight: 600; margin-right: 4px; }
.round-link {
  min-width: 2.1em; text-align: center; font-size: 0.8rem; padding: 1px 4px;
  border-radius: 4px; background: #e9ecef; color: #212529;
}
.round-link:hover { background: #ced4da; text-decoration: none; }
.round-link.moved { background: #198754; color: #fff; }
.round-link.unjudged { background: transparent; color: #adb5bd; border: 1px dashed #ced4da; }
.legend { margin-left: 8px; font-size: 0.75rem; color: #6c757d; }
.swatch {
  display: inline-block; width: 0.8em; height: 0.8em; border-radius: 2px; vertical-align: -1px;
  margin-left: 6px;
}
.swatch.moved { background: #198754; }
.swatch.unjudged { border: 1px dashed #adb5bd; }
.final-choice { display: flex; gap: 16px; align-items: flex-start; margin-bottom: 12px; }
.final-choice p { margin: 0 0 6px; }
.final-choice .big { font-size: 1.1rem; }
.final-image { width: 200px; flex: none; }
.lineage { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; margin-top: 6px; }
.lineage .arrow { color: #adb5bd; font-size: 1.2rem; }
.lineage-step {
  display: flex; flex-direction: column; align-items: center; width: 96px; text-align: center;
  font-size: 0.72rem; color: #495057; line-height: 1.3;
}
.thumb { width: 88px; }
.image, .thumb, .final-image {
  aspect-ratio: 1 / 1; object-fit: contain; image-rendering: pixelated; border-radius: 4px;
  background: #e9ecef; display: block;
}
.image { width: 100%; }
.missing {
  display: flex; align-items: center; justify-content: center; text-align: center; padding: 8px;
  color: #6c757d; font-size: 0.75rem; border: 1px dashed #adb5bd; background: #f8f9fa;
}
.verdict { margin: 0 0 8px; }
.curves { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 12px; }
.curve { margin: 0; border: 1px solid #e9ecef; border-radius: 6px; padding: 6px; }
.curve figcaption { font-size: 0.85rem; font-weight: 600; color: #495057; padding: 0 4px; }
.plot { height: 300px; }
.empty { color: #6c757d; font-style: italic; padding: 12px; margin: 0; }
.round { scroll-margin-top: 8px; }
.round:target { box-shadow: 0 0 0 3px #0d6efd55; }
.round-head { display: flex; align-items: baseline; gap: 10px; }
.round-head .up { margin-left: auto; font-size: 0.8rem; }
.round .facts { font-size: 0.8rem; color: #495057; margin: 2px 0 4px; }
.judgments { margin: 0 0 8px; padding-left: 1.2rem; font-size: 0.9rem; }
.undone, .undone del { color: #adb5bd; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; }
.card {
  border: 3px solid transparent; border-radius: 6px; padding: 5px; background: #f8f9fa;
  font-size: 0.8rem; scroll-margin-top: 8px;
}
.card.carried { border-color: #198754; }
.card.final { border-color: #dc3545; }
.card-head { display: flex; flex-wrap: wrap; align-items: center; gap: 3px; margin-bottom: 4px; }
.slot { font-weight: 700; background: #343a40; color: #fff; border-radius: 4px; padding: 0 6px; }
.badge {
  display: inline-block; padding: 1px 6px; border-radius: 4px; font-size: 0.72rem; font-weight: 500;
  line-height: 1.4;
}
.badge.primary { background: #0d6efd; color: #fff; }
.badge.secondary { background: #6c757d; color: #fff; }
.badge.success { background: #198754; color: #fff; }
.badge.info { background: #0dcaf0; color: #000; }
.badge.warning { background: #ffc107; color: #000; }
.badge.dark { background: #212529; color: #fff; }
.badge.danger { background: #dc3545; color: #fff; }
.badge.light { background: #e9ecef; color: #212529; }
.badge.outline { border: 1px solid #0d6efd; color: #0d6efd; }
.received { list-style: none; margin: 4px 0 0; padding: 0; }
.received li { padding: 1px 0; }
.card .notes, .card .facts { margin: 3px 0 0; color: #6c757d; font-size: 0.72rem; }
.carried-link { color: #198754; }
footer { max-width: 1240px; margin: 0 auto; padding: 0 16px 24px; font-size: 0.8rem; }
@media print {
  .contents { position: static; }
  .card, .curve, .lineage-step { break-inside: avoid; }
}
"""
