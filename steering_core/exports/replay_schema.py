"""Checks a replay JSON field by field; every error names the field, e.g.
`replay.rounds[3].candidates[2].seed: expected an integer`.

Types first (every field present, of its type), then the links between rows (each candidate,
event and comparison points at rows of the same replay), then what the restore writes to disk
(a session id that is a safe file name, image paths inside `images/`).
"""

from __future__ import annotations

import math
import re
from typing import Any

from steering_core.errors import InvalidInput, shown
from steering_core.session_names import check_name

SCHEMA_NAME = "stable-steering/replay"
ELSEWHERE = -1  # the implicit "better option elsewhere" (steering_core.feedback.ELSEWHERE)

# Session ids are file names (labels/<id>.csv, images/<id>/): no separators, no dots.
SESSION_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
IMAGE_PATH_PATTERN = re.compile(r"images(/[A-Za-z0-9_.-]+)+\.png")
INT64 = 2**63
MAX_ID = 2**62

# Field -> kind; a trailing "?" allows null. Kinds are described in `_KINDS`.
TOP_FIELDS = {
    "schema": "text",
    "schema_version": "int",
    "app_version": "text",
    "session": "object",
    "rounds": "list",
    "feedback_events": "list",
    "comparisons": "list",
    "setting_changes": "list",
    "synthetic_target": "object?",
    "external_candidates": "list",
}
SESSION_FIELDS = {
    "id": "text",
    "created_at": "text",
    "prompt": "text",
    "source": "text",
    "forked_from_candidate_id": "id?",
    "config": "object",
}
ROUND_FIELDS = {
    "id": "id",
    "index": "id",
    "created_at": "text",
    "incumbent_candidate_id": "id?",
    "model_state": "object",
    "timings": "object",
    "candidates": "list",
}
CANDIDATE_FIELDS = {
    "id": "id",
    "slot": "id",
    "steering_vector": "vector",
    "seed": "int",
    "role": "text",
    "parent_candidate_id": "id?",
    "sampler_metadata": "object",
    "image_path": "text?",
    "created_at": "text",
}
EVENT_FIELDS = {
    "id": "id",
    "round_index": "id",
    "mode": "text",
    "raw": "object",
    "comparisons": "list",
    "confidence": "number",
    "source": "text",
    "created_at": "text",
    "client_key": "text?",
    "undone_at": "text?",
    "undoes_event_id": "id?",
}
NORMALIZED_FIELDS = {"winner": "int", "loser": "id", "weight": "number", "tie": "bool"}
COMPARISON_FIELDS = {
    "id": "id",
    "event_id": "id",
    "winner_candidate_id": "int?",
    "loser_candidate_id": "id",
    "weight": "number",
    "is_tie": "bool",
}
SETTING_CHANGE_FIELDS = {"id": "id", "from_round": "id", "changes": "object", "created_at": "text"}
TARGET_FIELDS = {"targets": "list", "user": "object"}
EXTERNAL_FIELDS = {"id": "id", "session_id": "text", "round_index": "id", "slot": "id"}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -INT64 <= value < INT64


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


_KINDS = {
    "text": (lambda v: isinstance(v, str), "text"),
    "int": (_is_int, "an integer"),
    # Row ids stay far from SQLite's limit, so renumbering above them cannot overflow.
    "id": (lambda v: _is_int(v) and 0 <= v < MAX_ID, f"an integer from 0 to {MAX_ID - 1}"),
    "number": (_is_number, "a finite number"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "object": (lambda v: isinstance(v, dict), "an object"),
    "list": (lambda v: isinstance(v, list), "a list"),
    "vector": (
        lambda v: isinstance(v, list) and all(_is_number(x) for x in v),
        "a list of finite numbers",
    ),
}


def _fail(where: str, problem: str) -> InvalidInput:
    return InvalidInput(f"{where}: {problem}")


def check_fields(mapping: Any, fields: dict[str, str], where: str) -> dict[str, Any]:
    """`mapping` as a dict holding every field of `fields` with a value of its kind."""
    if not isinstance(mapping, dict):
        raise _fail(where, "expected an object")
    for name, kind in fields.items():
        if name not in mapping:
            raise _fail(f"{where}.{name}", "missing")
        value = mapping[name]
        optional = kind.endswith("?")
        if value is None and optional:
            continue
        test, description = _KINDS[kind.rstrip("?")]
        if not test(value):
            raise _fail(
                f"{where}.{name}", f"expected {description}" + (" or null" if optional else "")
            )
    return mapping


def _unique(values: list[Any], where: str, what: str) -> None:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise _fail(where, f"{what} {value} appears twice")
        seen.add(value)


def check_replay(replay: Any, expected_version: int) -> None:
    """Raise InvalidInput naming the first field of `replay` that is missing, of the wrong
    type, or points at a row the replay does not hold."""
    if not isinstance(replay, dict):
        raise _fail("replay", "expected a JSON object")
    if replay.get("schema") != SCHEMA_NAME:
        got = shown(replay.get("schema"))
        raise _fail("replay.schema", f"expected {SCHEMA_NAME!r} (got {got})")
    version = replay.get("schema_version")
    if not _is_int(version) or version != expected_version:
        raise _fail(
            "replay.schema_version",
            f"this version of the tool reads version {expected_version} (got {shown(version)})",
        )
    check_fields(replay, TOP_FIELDS, "replay")
    session = check_fields(replay["session"], SESSION_FIELDS, "replay.session")
    if not SESSION_ID_PATTERN.fullmatch(session["id"]):
        raise _fail("replay.session.id", "1-64 letters, digits, '-' or '_'")
    if "name" in session:  # optional: replays from before names have none
        try:
            if session["name"] != check_name(session["name"]):
                raise InvalidInput("name: without spaces around it")
        except InvalidInput as error:
            raise _fail("replay.session.name", str(error).removeprefix("name: ")) from None

    external = replay["external_candidates"]
    for i, row in enumerate(external):
        check_fields(row, EXTERNAL_FIELDS, f"replay.external_candidates[{i}]")
    external_ids = {row["id"] for row in external}

    candidate_ids: set[int] = set()
    candidates_of_round: dict[int, set[int]] = {}
    dimensions: set[int] = set()
    for r, round_row in enumerate(replay["rounds"]):
        where = f"replay.rounds[{r}]"
        check_fields(round_row, ROUND_FIELDS, where)
        slots = []
        ids = candidates_of_round.setdefault(round_row["index"], set())
        for c, candidate in enumerate(round_row["candidates"]):
            at = f"{where}.candidates[{c}]"
            check_fields(candidate, CANDIDATE_FIELDS, at)
            if candidate["id"] in candidate_ids or candidate["id"] in external_ids:
                raise _fail(f"{at}.id", f"candidate {candidate['id']} appears twice")
            candidate_ids.add(candidate["id"])
            ids.add(candidate["id"])
            slots.append(candidate["slot"])
            dimensions.add(len(candidate["steering_vector"]))
            _check_image_path(candidate["image_path"], session["id"], external, f"{at}.image_path")
        _unique(slots, f"{where}.candidates", "slot")
    _unique([row["index"] for row in replay["rounds"]], "replay.rounds", "round index")
    _unique([row["id"] for row in replay["rounds"]], "replay.rounds", "round id")
    if len(dimensions) > 1:
        raise _fail("replay.rounds", f"steering vectors of different lengths {sorted(dimensions)}")

    known = candidate_ids | external_ids
    forked = session["forked_from_candidate_id"]
    if forked is not None and forked not in known:
        raise _fail("replay.session.forked_from_candidate_id", f"candidate {forked} is not listed")
    for r, round_row in enumerate(replay["rounds"]):
        incumbent = round_row["incumbent_candidate_id"]
        if incumbent is not None and incumbent not in candidates_of_round[round_row["index"]]:
            raise _fail(
                f"replay.rounds[{r}].incumbent_candidate_id", "not a candidate of the round"
            )
        for c, candidate in enumerate(round_row["candidates"]):
            parent = candidate["parent_candidate_id"]
            if parent is not None and parent not in known:
                raise _fail(
                    f"replay.rounds[{r}].candidates[{c}].parent_candidate_id",
                    f"candidate {parent} is not listed",
                )

    _check_feedback(replay, candidate_ids, candidates_of_round)

    for i, change in enumerate(replay["setting_changes"]):
        check_fields(change, SETTING_CHANGE_FIELDS, f"replay.setting_changes[{i}]")
    _unique([row["id"] for row in replay["setting_changes"]], "replay.setting_changes", "id")
    if replay["synthetic_target"] is not None:
        target = check_fields(replay["synthetic_target"], TARGET_FIELDS, "replay.synthetic_target")
        for i, row in enumerate(target["targets"]):
            if not _KINDS["vector"][0](row) or (dimensions and len(row) not in dimensions):
                raise _fail(
                    f"replay.synthetic_target.targets[{i}]",
                    "expected a steering vector (a list of numbers as long as the candidates')",
                )


def _check_image_path(
    path: str | None, session_id: str, external: list[dict[str, Any]], where: str
) -> None:
    """The one rule for a candidate's image: a relative `images/....png` path in the
    session's own folder, or (the first incumbent of a fork) in the folder of the session
    it was forked from, which a restore copies into the session's own folder."""
    if path is None:
        return
    if ".." in path.split("/") or not IMAGE_PATH_PATTERN.fullmatch(path):
        raise _fail(where, f"expected a relative images/....png path (got {shown(path)})")
    folders = {session_id} | {row["session_id"] for row in external}
    if path.split("/")[1] not in folders:
        raise _fail(
            where,
            f"expected a path inside images/{session_id}/, the session's own folder, or the "
            f"folder of the session it was forked from (got {shown(path)})",
        )


def check_replay_content(replay: dict[str, Any]) -> None:
    """What a checked replay says must pass the checks the CLI and the config apply: its
    session's prompt and config (as an import: no absolute path of another machine)."""
    from pydantic import TypeAdapter, ValidationError

    from steering_core.config import PromptText, make_config

    session = replay["session"]
    try:
        TypeAdapter(PromptText).validate_python(session["prompt"])
    except ValidationError as error:
        message = error.errors(include_url=False)[0]["ctx"]["error"]
        raise _fail("replay.session.prompt", str(message)) from None
    make_config(session["config"], source="replay.session.config", portable=True)


def _check_feedback(
    replay: dict[str, Any], candidate_ids: set[int], candidates_of_round: dict[int, set[int]]
) -> None:
    """Each event judges a round of the replay and names only its candidates; each comparison
    row belongs to an event and names candidates of the replay (or "elsewhere")."""
    from steering_core.feedback import parse_feedback

    event_ids: set[int] = set()
    for i, event in enumerate(replay["feedback_events"]):
        where = f"replay.feedback_events[{i}]"
        check_fields(event, EVENT_FIELDS, where)
        if event["id"] in event_ids:
            raise _fail(f"{where}.id", f"event {event['id']} appears twice")
        event_ids.add(event["id"])
        shown = candidates_of_round.get(event["round_index"])
        if shown is None:
            raise _fail(
                f"{where}.round_index", f"round {event['round_index']} is not in the replay"
            )
        if event["mode"] == "undo":
            undone = event["raw"].get("undoes_event_id")
            if event["undoes_event_id"] is None or undone != event["undoes_event_id"]:
                raise _fail(f"{where}.raw.undoes_event_id", "must name the undone event")
        else:
            try:
                named = parse_feedback(event["raw"]).candidate_ids()
            except InvalidInput as error:
                raise _fail(f"{where}.raw", str(error)) from None
            outside = [c for c in named if c not in shown]
            if outside:
                raise _fail(f"{where}.raw", f"candidate {outside[0]} is not in its round")
        for j, comparison in enumerate(event["comparisons"]):
            at = f"{where}.comparisons[{j}]"
            check_fields(comparison, NORMALIZED_FIELDS, at)
            for side in ("winner", "loser"):
                if comparison[side] != ELSEWHERE and comparison[side] not in shown:
                    raise _fail(f"{at}.{side}", f"candidate {comparison[side]} is not in its round")
    for i, event in enumerate(replay["feedback_events"]):
        undone = event["undoes_event_id"]
        if undone is not None and undone not in event_ids:
            raise _fail(f"replay.feedback_events[{i}].undoes_event_id", f"no event {undone}")
    comparison_ids: set[int] = set()
    for i, row in enumerate(replay["comparisons"]):
        where = f"replay.comparisons[{i}]"
        check_fields(row, COMPARISON_FIELDS, where)
        if row["id"] in comparison_ids:
            raise _fail(f"{where}.id", f"comparison {row['id']} appears twice")
        comparison_ids.add(row["id"])
        if row["event_id"] not in event_ids:
            raise _fail(f"{where}.event_id", f"no event {row['event_id']}")
        winner = row["winner_candidate_id"]
        if winner not in (None, ELSEWHERE) and winner not in candidate_ids:
            raise _fail(f"{where}.winner_candidate_id", f"candidate {winner} is not listed")
        if row["loser_candidate_id"] not in candidate_ids:
            raise _fail(f"{where}.loser_candidate_id", "not a candidate of the replay")
