"""Unit tests of assets/judging.js's pure functions, from the draft on screen to the judgment
the server validates, in a static page with no server: the raw judgment of each feedback
mode, what is missing before one can be submitted, and its one-line description."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dashboard import ids
from dashboard.app import ASSETS
from dashboard.layout.grid import SHORTCUTS, shortcut_keys
from steering_core.feedback import FEEDBACK_MODE_NAMES

# A round of four candidates (ids 100-103 in slots 0-3), as the grid's data attributes say.
ROUND = {"session": "s1", "round": 3, "latest": True, "candidates": [100, 101, 102, 103]}

# (name, the draft's mode, what the researcher did to the draft, the button, the judgment)
RAW_JUDGMENTS: list[tuple[str, str, dict[str, Any], str | None, dict[str, Any] | None]] = [
    ("winner", "winner", {"winner": 2}, None, {"mode": "winner", "winner": 102}),
    (
        "rating",
        "rating",
        {"ratings": {"0": 5, "3": 2}},
        None,
        {"mode": "rating", "ratings": {"100": 5, "103": 2}},
    ),
    ("ranking", "ranking", {"order": [2, 0]}, None, {"mode": "ranking", "order": [102, 100]}),
    (
        "pairwise",
        "pairwise",
        {"pair": [1, 3], "choice": "second"},
        None,
        {"mode": "pairwise", "first": 101, "second": 103, "choice": "second"},
    ),
    (
        "approve_reject",
        "approve_reject",
        {"approved": [0], "rejected": [1, 2]},
        None,
        {"mode": "approve_reject", "approved": [100], "rejected": [101, 102]},
    ),
    (
        "critique of one image",
        "critique",
        {"winner": 1, "tags": ["too dark"], "text": "more light"},
        None,
        {"mode": "critique", "tags": ["too dark"], "text": "more light", "candidate": 101},
    ),
    (
        "critique of the round",
        "critique",
        {"text": "fine"},
        None,
        {"mode": "critique", "tags": [], "text": "fine"},
    ),
    (
        "critique beside a pick",
        "winner",
        {"winner": 0, "tags": ["blurry"]},
        "critique",
        {"mode": "critique", "tags": ["blurry"], "text": "", "candidate": 100},
    ),
    (
        "reject all, with its reason",
        "winner",
        {"winner": 0, "reason": "all off-topic"},
        "reject-all",
        {"mode": "reject_all", "reason": "all off-topic"},
    ),
    (
        "cannot decide between the selected",
        "winner",
        {"selected": [0, 2]},
        "cannot-decide",
        {"mode": "cannot_decide", "between": [100, 102]},
    ),
    (
        "cannot decide between the pair",
        "pairwise",
        {"pair": [3, 1]},
        "cannot-decide",
        {"mode": "cannot_decide", "between": [103, 101]},
    ),
    (
        "cannot decide, bare",
        "winner",
        {"selected": [1]},
        "cannot-decide",
        {"mode": "cannot_decide"},
    ),
    (
        "confidence",
        "winner",
        {"winner": 3, "confidence": 0.4},
        None,
        {"mode": "winner", "winner": 103},
    ),
    ("winner, none picked", "winner", {}, None, None),
    ("rating, none rated", "rating", {}, None, None),
    ("ranking, none clicked", "ranking", {}, None, None),
    ("pairwise, no choice yet", "pairwise", {"pair": [0, 1]}, None, None),
    ("pairwise, one image", "pairwise", {"pair": [0], "choice": "first"}, None, None),
    ("approve_reject, none marked", "approve_reject", {}, None, None),
    # A critique with neither tag nor note is refused by the server: nothing to send (the
    # draft after "Send critique" is such a draft; Enter then must not send it).
    ("critique, nothing written", "critique", {}, None, None),
    ("critique of an image, nothing written", "critique", {"winner": 1, "text": "  "}, None, None),
    ("Send critique beside a pick, nothing written", "winner", {"winner": 0}, "critique", None),
]


def test_every_feedback_mode_has_a_case_here() -> None:
    # A new mode (steering_core/feedback/) is judged in judging.js: give it a case above.
    judged = {expected["mode"] for *_, expected in RAW_JUDGMENTS if expected is not None}
    assert judged == set(FEEDBACK_MODE_NAMES)


@pytest.fixture
def judging(static_page: Any, tmp_path: Path) -> Any:
    """A static page with judging.js loaded, the ids handed to it as the dashboard does."""
    page = tmp_path / "judging.html"
    page.write_text(
        "<!DOCTYPE html><html><body>"
        f"<script>{ids.javascript()}</script>"
        f'<script src="{(ASSETS / "judging.js").as_uri()}"></script>'
        "</body></html>"
    )
    static_page.goto(page.as_uri())  # returns once the page and its scripts have loaded
    return static_page


def test_each_mode_judges_what_the_draft_shows(judging: Any) -> None:
    cases = [(name, mode, draft, action) for name, mode, draft, action, _ in RAW_JUDGMENTS]
    judged = judging.evaluate(
        """([round, cases]) => {
            const judged = {};
            for (const [name, mode, changes, action] of cases) {
                const info = Object.assign({mode: mode}, round);
                const draft = Object.assign(window.steer.emptyDraft(info), changes);
                judged[name] = window.steer.rawJudgment(draft, info, action);
            }
            return judged;
        }""",
        [ROUND, cases],
    )
    for name, _, draft, _, expected in RAW_JUDGMENTS:
        if expected is not None:
            # Every judgment carries its confidence and how long the draft took.
            assert 0 <= judged[name].pop("decision_seconds") < 60, name
            expected = {**expected, "confidence": draft.get("confidence", 1)}
        assert judged[name] == expected, name


def test_the_decision_time_is_counted_from_the_draft_s_start(judging: Any) -> None:
    seconds = judging.evaluate(
        """(round) => {
            const info = Object.assign({mode: "winner"}, round);
            const draft = Object.assign(window.steer.emptyDraft(info), {winner: 0});
            draft.started = Date.now() - 2500;
            return window.steer.rawJudgment(draft, info, null).decision_seconds;
        }""",
        ROUND,
    )
    assert 2.5 <= seconds < 5


def test_what_is_missing_before_a_judgment_can_be_submitted(judging: Any) -> None:
    drafts = {
        "winner": {"mode": "winner", "pair": []},
        "rating": {"mode": "rating", "pair": []},
        "ranking": {"mode": "ranking", "pair": []},
        "pairwise, no images": {"mode": "pairwise", "pair": []},
        "pairwise, two images": {"mode": "pairwise", "pair": [0, 1]},
        "approve_reject": {"mode": "approve_reject", "pair": []},
        "critique": {"mode": "critique", "pair": []},
        "an unknown mode": {"mode": "reject_all", "pair": []},
    }
    missing = judging.evaluate(
        """(drafts) => Object.fromEntries(Object.entries(drafts).map(
            ([name, draft]) => [name, window.steer.missing(draft)]))""",
        drafts,
    )
    # "Send critique" beside another mode's pick says what the critique lacks.
    beside = judging.evaluate(
        "(draft) => window.steer.missing(draft, 'critique')", {"mode": "winner", "pair": []}
    )
    assert beside == "give a tag or a note first"
    assert missing == {
        "winner": "pick the best image first",
        "rating": "rate at least one image first",
        "ranking": "click at least one image first",
        "pairwise, no images": "pick two images first",
        "pairwise, two images": "say which is better",
        "approve_reject": "approve or reject at least one image first",
        "critique": "give a tag or a note first",
        "an unknown mode": "nothing to submit yet",
    }


def test_each_judgment_is_described_in_a_few_words(judging: Any) -> None:
    judgments = [
        {"mode": "winner", "winner": 100},
        {"mode": "rating", "ratings": {"100": 5, "103": 2}},
        {"mode": "ranking", "order": [102, 100, 101]},
        {"mode": "pairwise", "first": 101, "second": 103, "choice": "tie"},
        {"mode": "approve_reject", "approved": [100], "rejected": [101, 102]},
        {"mode": "critique", "tags": [], "text": "fine"},
        {"mode": "reject_all", "reason": ""},
        {"mode": "cannot_decide"},
    ]
    described = judging.evaluate("(all) => all.map(window.steer.describe)", judgments)
    assert described == [
        "winner",
        "2 rating(s)",
        "ranking of 3",
        "pair, tie",
        "1 approved, 2 rejected",
        "critique",
        "reject all",
        "cannot decide",
    ]


def test_an_unreachable_server_is_probed_less_and_less_often(judging: Any) -> None:
    delays = judging.evaluate(
        """() => { const delays = [2000];
            for (let i = 0; i < 6; i++) delays.push(window.steer.nextProbeDelay(delays.at(-1)));
            return delays; }"""
    )
    assert delays == [2000, 4000, 8000, 16000, 30000, 30000, 30000]


def test_the_offline_banner_says_what_waits_and_when_it_retries(judging: Any) -> None:
    one, many = judging.evaluate(
        "() => [window.steer.offlineMessage(1, 4), window.steer.offlineMessage(3, 30)]"
    )
    assert one == "Server unreachable — 1 judgment waiting; retrying in 4 s"
    assert many == "Server unreachable — 3 judgments waiting; retrying in 30 s"


def test_a_funnel_stage_refuses_to_keep_more_than_its_limit(judging: Any) -> None:
    result = judging.evaluate(
        """() => {
            const draft = {mode: "approve_reject", k: 20, keepLimit: 2, focus: 0,
                           approved: [0, 1], rejected: [], order: [], pair: [], selected: []};
            const refused = window.steer.approve(draft, 2, "approved");
            const approved = draft.approved.slice();
            const rejecting = window.steer.approve(draft, 1, "rejected");  // always allowed
            const again = window.steer.approve(draft, 2, "approved");  // room again
            const ranking = {mode: "ranking", k: 20, keepLimit: 1, focus: 0, order: [4],
                             approved: [], rejected: [], pair: [], selected: []};
            const ranked = window.steer.pick(ranking, 5, false);
            const free = {mode: "approve_reject", k: 20, keepLimit: 0, focus: 0,
                          approved: [0, 1, 2, 3, 4, 5, 6, 7, 8], rejected: [], order: [],
                          pair: [], selected: []};
            const unlimited = window.steer.approve(free, 9, "approved");
            return {refused, approved, rejecting, again, after: draft.approved, ranked,
                    order: ranking.order, unlimited, freeCount: free.approved.length};
        }"""
    )
    assert "this funnel stage keeps at most 2 (2 kept)" in result["refused"]
    assert result["approved"] == [0, 1]  # the refused approval changed nothing
    assert result["rejecting"] is None and result["again"] is None and result["after"] == [0, 2]
    assert "at most 1" in result["ranked"] and result["order"] == [4]
    assert result["unlimited"] is None and result["freeCount"] == 10  # not a funnel round


def test_which_judgments_start_the_next_round_by_themselves(judging: Any) -> None:
    cases = {
        "a winner of the latest round": ({"latest": True, "keepLimit": 0, "k": 4}, "winner"),
        "a past round": ({"latest": False, "keepLimit": 0, "k": 4}, "winner"),
        "a funnel round": ({"latest": True, "keepLimit": 8, "k": 20}, "approve_reject"),
        "one pair of four images": ({"latest": True, "keepLimit": 0, "k": 4}, "pairwise"),
        "the pair of a round of two": ({"latest": True, "keepLimit": 0, "k": 2}, "pairwise"),
    }
    advances = judging.evaluate(
        """(cases) => Object.fromEntries(Object.entries(cases).map(([name, [info, mode]]) => {
            const round = Object.assign({candidates: Array.from({length: info.k}, (_, i) => i)},
                                        info);
            return [name, window.steer.advances(round, {mode: mode})];
        }))""",
        cases,
    )
    assert advances == {
        "a winner of the latest round": True,
        "a past round": False,
        "a funnel round": False,
        "one pair of four images": False,
        "the pair of a round of two": True,
    }


def test_the_key_handler_knows_every_action_of_the_shortcut_table(judging: Any) -> None:
    handled = set(judging.evaluate("() => window.steer.keyActions"))
    assert handled == {shortcut.action for shortcut in SHORTCUTS}
    assert set(shortcut_keys()) >= {"Escape", "m", "i", "l", "n", "-", "+", "Backspace"}


def test_shortcuts_pause_only_in_text_fields(judging: Any) -> None:
    typing = judging.evaluate(
        """() => {
            const made = (html) => {
                const box = document.createElement("div");
                box.innerHTML = html;
                return box.firstChild;
            };
            const fields = {
                text: "<input type='text'>", untyped: "<input>", number: "<input type='number'>",
                textarea: "<textarea></textarea>", checkbox: "<input type='checkbox'>",
                range: "<input type='range'>", select: "<select></select>",
                button: "<button></button>", slider: "<div role='slider' tabindex='0'></div>",
            };
            return Object.fromEntries(Object.entries(fields).map(
                ([name, html]) => [name, window.steer.typing(made(html))]));
        }"""
    )
    assert typing == {
        "text": True,
        "untyped": True,
        "number": True,
        "textarea": True,
        "checkbox": False,
        "range": False,
        "select": False,
        "button": False,
        "slider": False,
    }


def test_key_names_as_the_shortcut_table_writes_them(judging: Any) -> None:
    names = judging.evaluate(
        """() => [
            {key: "3", code: "Digit3"}, {key: "#", code: "Digit3", shiftKey: true},
            {key: "ArrowLeft", code: "ArrowLeft", altKey: true}, {key: "M", code: "KeyM",
            shiftKey: true}, {key: "z", code: "KeyZ", ctrlKey: true},
        ].map((init) => window.steer.keyName(new KeyboardEvent("keydown", init)))"""
    )
    assert names == ["3", "3", "Alt+ArrowLeft", "M", None]
