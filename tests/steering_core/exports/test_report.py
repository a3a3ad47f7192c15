"""The HTML report: anchors per round, one image per candidate at its relative path, judgments
in words, the final choice's lineage, the curves; the same bytes every time, no absolute path,
nothing fetched from elsewhere, a placeholder for a removed image; `steer report`."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from plotly.offline import get_plotlyjs

from steering_core.cli import cli
from steering_core.config import make_config
from steering_core.exports.report import render_report, write_report
from steering_core.sessions import create_session, fork_session, get_candidates
from steering_core.storage.workspace import Workspace
from steering_core.synthetic import AnchorUser
from steering_core.synthetic.simulate import simulate_session
from steering_core.views.curve_values import PROMPT_REFERENCE, UTILITY_AXIS, VERDICT_COLOURS
from tests.steering_core.exports.report_sessions import judged_session
from tests.steering_core.helpers import blank_round

# Tag attributes that make a browser fetch something.
FETCHING = {
    "img": "src",
    "script": "src",
    "link": "href",
    "iframe": "src",
    "source": "src",
    "video": "src",
    "audio": "src",
    "embed": "src",
    "object": "data",
}


class Tags(HTMLParser):
    """Every start tag of a page with its attributes, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def of(self, tag: str, css: str | None = None) -> list[dict[str, str | None]]:
        return [
            attrs
            for name, attrs in self.tags
            if name == tag and (css is None or css in (attrs.get("class") or "").split())
        ]


def tags(page: str) -> Tags:
    parser = Tags()
    parser.feed(page)
    return parser


@pytest.fixture
def session_id(workspace: Workspace) -> str:
    return judged_session(workspace)


def section(page: str, element_id: str) -> str:
    """The HTML of the element with this id, up to the next round section or the end."""
    start = page.index(f'id="{element_id}"')
    following = page.find('<section class="round', start + 1)
    return page[start : following if following != -1 else len(page)]


def test_every_round_has_an_anchor_and_the_index_links_each(
    workspace: Workspace, session_id: str
) -> None:
    page = render_report(workspace, session_id)
    parsed = tags(page)
    assert [a["id"] for a in parsed.of("section", "round")] == [f"round-{i}" for i in range(5)]
    index = [a["href"] for a in parsed.of("a", "round-link")]
    assert index == [f"#round-{i}" for i in range(5)]
    # Round 4 is not judged: the index says so.
    assert "unjudged" in (parsed.of("a", "round-link")[4]["class"] or "")


def test_one_lazy_image_per_candidate_at_its_stored_relative_path(
    workspace: Workspace, session_id: str
) -> None:
    page = render_report(workspace, session_id)
    images = tags(page).of("img", "image")
    stored = get_candidates(workspace, session_id)
    assert [i["src"] for i in images] == [c.image_path for c in stored]
    assert all(i["src"].startswith("images/") for i in images)
    assert all(i["loading"] == "lazy" for i in tags(page).of("img"))


def test_judgments_are_described_in_words(workspace: Workspace, session_id: str) -> None:
    page = render_report(workspace, session_id)
    round0, round1, round2, round3 = (section(page, f"round-{i}") for i in range(4))
    assert "winner: 3 (decided in 3.2 s)" in round0
    assert round0.count("lost to 3") == 4  # every other candidate of a winner round
    assert "ratings: 2 → 4/5, 4 → 2/5" in round1
    assert "rated 4/5" in round1 and "rated 2/5" in round1
    assert "critique of 2 [lighting]: “too dark” (confidence 60%)" in round1
    assert "pair 2 vs 5: 5 is better" in round2
    assert "won vs 2" in round2 and "lost vs 5" in round2
    assert "<del>ranking: 4 &gt; 2</del>" in round2  # undone, struck through
    assert "<del>ranked 1st of 2</del>" in round2
    assert "approved 3; rejected 1" in round2
    assert "rejected the whole round: “all too red”" in round3
    assert round3.count("rejected with the whole round: “all too red”") == 5
    assert "cannot decide between 2, 3" in round3
    assert "not judged" in section(page, "round-4")


def test_final_choice_and_its_lineage_back_to_round_zero(
    workspace: Workspace, session_id: str
) -> None:
    page = render_report(workspace, session_id)
    final = page[page.index('id="final"') : page.index('id="curves"')]
    steps = tags(final).of("a", "lineage-step")
    assert steps[0]["href"] == "#round-0"
    hrefs = [s["href"] for s in steps]
    assert hrefs == sorted(hrefs, key=lambda h: int(h.rsplit("-", 1)[1]))
    assert len(tags(final).of("img", "thumb")) == len(steps)
    # The final choice is marked on its card, which the panel links to.
    chosen = tags(final).of("a")[0]["href"]
    assert chosen.startswith("#candidate-")
    card = page[page.index(f'id="{chosen[1:]}"') :]
    assert "final choice" in card[: card.index("</article>")]


def test_curves_are_drawn_from_the_stored_rounds_with_plotly_inline_once(
    workspace: Workspace, session_id: str
) -> None:
    page = render_report(workspace, session_id)
    figures = {a["data-target"]: a for a in tags(page).of("script", "figure-data")}
    assert {"plot-loss", "plot-utility", "plot-convergence", "plot-value"} <= set(figures)
    assert "plot-decision" in figures  # the winner of round 0 took 3.25 s
    for target in figures:
        assert f'<div class="plot" id="{target}"></div>' in page
    utility = json.loads(re.search(r'data-target="plot-utility">(.*?)</script>', page).group(1))
    (trace,) = [t for t in utility["data"] if t.get("mode") == "lines+markers"]
    assert trace["x"] == [0, 1, 2, 3, 4]
    # Units, the prompt's reference line and a legend for the verdict colours.
    assert utility["layout"]["yaxis"]["title"]["text"] == UTILITY_AXIS
    assert [a["text"] for a in utility["layout"]["annotations"]] == [PROMPT_REFERENCE]
    legend = {t["name"] for t in utility["data"] if t.get("showlegend")}
    assert legend == set(VERDICT_COLOURS)
    # How well each round was predicted before it was judged, against chance.
    choice = json.loads(re.search(r'data-target="plot-next_choice">(.*?)</script>', page).group(1))
    assert [t["name"] for t in choice["data"]] == ["chance", "this round", "all rounds so far"]
    assert set(choice["data"][0]["y"]) == {50.0}
    assert page.count(get_plotlyjs()) == 1


def test_the_same_stored_session_gives_the_same_bytes(
    workspace: Workspace, session_id: str, tmp_path: Path
) -> None:
    first = write_report(workspace, session_id, tmp_path / "a").read_bytes()
    second = write_report(workspace, session_id, tmp_path / "b").read_bytes()
    assert first == second
    assert render_report(workspace, session_id).encode() == first


def test_another_session_in_the_data_root_changes_nothing(
    workspace: Workspace, session_id: str
) -> None:
    before = render_report(workspace, session_id)
    fork = fork_session(workspace, get_candidates(workspace, session_id)[7].id)
    blank_round(workspace, fork.id)
    assert render_report(workspace, session_id) == before


def test_a_forks_report_shows_its_origin_without_reading_the_parent_session(
    workspace: Workspace, session_id: str
) -> None:
    origin = get_candidates(workspace, session_id)[7]
    fork = fork_session(workspace, origin.id)
    blank_round(workspace, fork.id)
    page = render_report(workspace, fork.id)
    # Round 0 re-shows the candidate it was forked from: the parent session's image.
    assert tags(page).of("img", "image")[0]["src"] == origin.image_path
    # Named as the grid numbered it: its card number in the parent's round.
    assert "from the session this one was forked from" in page
    named = f"candidate {origin.slot + 1} of round {origin.round_index} of session #{session_id}"
    assert named in page


def test_no_absolute_path_inside(workspace: Workspace, session_id: str, tmp_path: Path) -> None:
    # A local checkpoint named by its absolute path, as a diffusers session stores it.
    checkpoint = tmp_path / "models" / "my-checkpoint"
    row = workspace.db.query_one("SELECT config_json FROM sessions WHERE id = ?", (session_id,))
    config = json.loads(row[0])
    config["generator"] = {**config["generator"], "backend": "diffusers", "model": str(checkpoint)}
    with workspace.db.transaction() as connection:
        connection.execute(
            "UPDATE sessions SET config_json = ? WHERE id = ?", (json.dumps(config), session_id)
        )
    page = write_report(workspace, session_id, tmp_path / "out").read_text(encoding="utf-8")
    for absolute in (workspace.data_root, workspace.labels_dir, tmp_path, checkpoint):
        assert str(absolute) not in page
    assert "…/my-checkpoint" in page


def test_nothing_is_fetched_from_elsewhere(workspace: Workspace, session_id: str) -> None:
    page = render_report(workspace, session_id)
    parsed = tags(page)
    assert parsed.of("link") == []  # the stylesheet is inline
    assert all("src" not in attrs for attrs in parsed.of("script"))  # so is every script
    for tag, attribute in FETCHING.items():
        for attrs in parsed.of(tag):
            value = attrs.get(attribute)
            if value is not None:
                assert not re.match(r"^([a-z]+:|//)", value, re.IGNORECASE), (tag, value)
    style = page[page.index("<style>") : page.index("</style>")]
    assert "url(" not in style and "@import" not in style


def test_a_removed_image_shows_a_placeholder_and_is_not_copied(
    workspace: Workspace, session_id: str, tmp_path: Path
) -> None:
    removed = get_candidates(workspace, session_id)[1]  # round 0, shown only there
    workspace.images.resolve(removed.image_path).unlink()
    folder = tmp_path / "out"
    page = write_report(workspace, session_id, folder).read_text(encoding="utf-8")
    card = page[page.index(f'id="candidate-{removed.id}"') :]
    card = card[: card.index("</article>")]
    assert f"image removed — regenerable from seed {removed.seed}" in card
    assert "<img" not in card
    assert removed.image_path not in [i["src"] for i in tags(page).of("img")]
    assert not (folder / removed.image_path).exists()
    for image in tags(page).of("img"):
        assert (folder / image["src"]).is_file()


def test_an_image_path_outside_the_images_folder_is_neither_shown_nor_copied(
    workspace: Workspace, session_id: str, tmp_path: Path
) -> None:
    candidate = get_candidates(workspace, session_id)[1]
    with workspace.db.transaction() as connection:
        connection.execute(
            "UPDATE candidates SET image_path = ? WHERE id = ?",
            ("steering.sqlite3", candidate.id),
        )
    folder = tmp_path / "out"
    page = write_report(workspace, session_id, folder).read_text(encoding="utf-8")
    assert "steering.sqlite3" not in [i["src"] for i in tags(page).of("img")]
    assert not (folder / "steering.sqlite3").exists()


def test_image_href_names_where_the_images_are(workspace: Workspace, session_id: str) -> None:
    page = render_report(workspace, session_id, image_href=lambda path: f"/files/{path}")
    assert all(i["src"].startswith("/files/images/") for i in tags(page).of("img"))


def test_a_simulated_session_without_images_and_a_session_without_rounds(
    workspace: Workspace,
) -> None:
    config = make_config({"prompt": "a blue square", "k": 4, "d": 3})
    result = simulate_session(workspace, config, AnchorUser(target=np.full(3, 0.3)), rounds=3)
    page = render_report(workspace, result.session_id)
    assert tags(page).of("img") == []
    assert page.count("no image: this round was simulated without rendering") >= 12
    assert "plot-distance" in page  # the hidden target's distance, synthetic sessions only
    assert "(synthetic)" in page  # judgments given by the synthetic user say so

    empty = create_session(workspace, config).id
    page = render_report(workspace, empty)
    assert "No rounds yet" in page and "No final choice" in page


def steer(tmp_path: Path, *args: str) -> Any:
    root = ["--data-root", str(tmp_path / "data"), "--labels-dir", str(tmp_path / "labels")]
    return CliRunner().invoke(cli, [*root, *args], catch_exceptions=False)


def test_steer_report_writes_a_folder_and_refuses_one_that_is_not_empty(
    workspace: Workspace, session_id: str, tmp_path: Path
) -> None:
    folder = tmp_path / "report"
    result = steer(tmp_path, "report", session_id, "--out", str(folder))
    assert result.exit_code == 0, result.output
    assert (folder / "report.html").is_file()
    written = {p.relative_to(folder).as_posix() for p in folder.rglob("*.png")}
    assert written == {c.image_path for c in get_candidates(workspace, session_id)}

    before = (folder / "report.html").stat().st_mtime_ns
    refused = steer(tmp_path, "report", session_id, "--out", str(folder))
    assert refused.exit_code == 2
    assert "--out" in refused.output and "not empty" in refused.output
    assert "--force" in refused.output
    assert (folder / "report.html").stat().st_mtime_ns == before

    assert steer(tmp_path, "report", session_id, "--out", str(folder), "--force").exit_code == 0
    missing = steer(tmp_path, "report", "nosuchsession", "--out", str(tmp_path / "other"))
    assert missing.exit_code == 2 and "nosuchsession" in missing.output
    assert not (tmp_path / "other").exists()
