"""A session as one self-contained, offline HTML page: its settings, the final choice and its
lineage, the curves (Plotly's JavaScript inline), and every round's candidates with the
judgments they got. What it shows comes from `views.report_data`; the markup is the Jinja2
template `templates/report.html.j2` (autoescaped), the look `templates/report.css`.

The page depends on the session's own stored data only (never on other sessions of the data
root, the clock or the machine), so the same stored session always gives the same bytes.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path, PurePosixPath

import jinja2
import plotly.io as pio
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from steering_core import __version__
from steering_core.errors import InvalidInput, NotFound
from steering_core.storage.records import CandidateRecord
from steering_core.storage.workspace import Workspace
from steering_core.views.report_curves import Curve
from steering_core.views.report_data import number_text, report_data, time_text
from steering_core.views.roles import role_colour
from steering_core.views.session_view import FINAL_CHOICE_MEANING, CandidateView

REPORT_FILE = "report.html"
# Stored images live under this folder of the data root; the report copies only from there.
IMAGES_FOLDER = "images"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
_RENDER_FIGURES = """
document.querySelectorAll('script.figure-data').forEach(function (data) {
  var figure = JSON.parse(data.textContent);
  Plotly.newPlot(data.dataset.target, figure.data, figure.layout, %s);
});
"""


def _same_href(image_path: str) -> str:
    return image_path


@cache
def _template() -> jinja2.Template:
    # Autoescape everything: user text (prompts, critiques, reasons, plug-in parameters)
    # reaches the page only as text.
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("steering_core.exports", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    return environment.get_template("report.html.j2")


@cache
def _style() -> str:
    return (files("steering_core.exports") / "templates" / "report.css").read_text(encoding="utf-8")


# --- images ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ShownImage:
    """A candidate's image as the page shows it: its `src`, or (None) why it is missing."""

    src: str | None
    alt: str
    missing: str = ""


class _Images:
    """Each candidate's image as the page shows it, and the stored relative paths of the
    images the page shows (to copy beside it)."""

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

    def of(self, candidate: CandidateRecord) -> ShownImage:
        alt = f"round {candidate.round_index}, candidate {candidate.slot + 1}"
        path = candidate.image_path
        if path is None:
            return ShownImage(None, alt, "no image: this round was simulated without rendering")
        if not self.present(path):
            return ShownImage(
                None, alt, f"image removed — regenerable from seed {candidate.seed} and its vector"
            )
        self.shown.add(path)
        return ShownImage(self.href(path), alt)


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


# --- words the template prints -----------------------------------------------------------
def _vector(candidate: CandidateRecord) -> str:
    return ", ".join(f"{v:.3f}" for v in candidate.steering_vector.tolist())


def _why(candidate: CandidateRecord) -> str:
    metadata = candidate.sampler_metadata
    return str(metadata.get("why") or metadata.get("reason") or "")


def _card_facts(candidate: CandidateRecord) -> str:
    metadata = candidate.sampler_metadata
    predicted = ""
    if metadata.get("predicted_utility") is not None:
        predicted = (
            f"predicted {number_text(metadata['predicted_utility'])} ± "
            f"{number_text(metadata.get('uncertainty'), 2)}"
        )
    return " · ".join(part for part in (f"seed {candidate.seed}", predicted) if part)


def _card_notes(entry: CandidateView) -> list[tuple[str, str]]:
    """(text, link or "") under a card: the round that carried it forward, and for a
    round's incumbent the round its parent came from."""
    notes = []
    candidate = entry.candidate
    if entry.carried_forward:
        notes.append((f"carried forward → round {entry.carried_to}", f"#round-{entry.carried_to}"))
    origin = entry.origin
    if candidate.slot == 0 and origin is not None:
        if origin.session_id == candidate.session_id and origin.round_index is not None:
            notes.append(
                (
                    f"from round {origin.round_index}, candidate {origin.slot + 1}",
                    f"#round-{origin.round_index}",
                )
            )
        else:
            # Named in the settings ("Forked from"): its card number in the parent's round.
            notes.append(("from the session this one was forked from", ""))
    return notes


def _figure_json(curve: Curve) -> Markup:
    """The figure as JSON that is safe inside a <script> element."""
    text = pio.to_json(curve.figure, validate=False, remove_uids=True)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _render(
    workspace: Workspace, session_id: str | None, image_href: Callable[[str], str]
) -> tuple[str, list[str]]:
    report = report_data(workspace, session_id)
    images = _Images(workspace, image_href)
    page = _template().render(
        report=report,
        images=images,
        style=Markup(_style()),
        plotly_js=Markup(get_plotlyjs()),
        render_figures=Markup(_RENDER_FIGURES % json.dumps(PLOTLY_CONFIG, sort_keys=True)),
        final_choice_meaning=FINAL_CHOICE_MEANING,
        version=__version__,
        vector=_vector,
        why=_why,
        card_facts=_card_facts,
        card_notes=_card_notes,
        figure_json=_figure_json,
        role_colour=role_colour,
        time_text=time_text,
    )
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
