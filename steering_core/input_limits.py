"""Files a researcher hands in (YAML configs, a bundle's JSON), read with limits on size,
nesting depth and alias expansion, checked before anything is built from them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from steering_core.errors import InvalidInput

# A session config is a few hundred bytes and a benchmark grid a few kB; 256 KiB is far
# above both and keeps the worst case (parsing a file of that size) well under a second.
MAX_CONFIG_BYTES = 256 << 10
# Nesting of mappings and lists, counting what aliases bring in; a config uses about 5.
MAX_DEPTH = 32
# Values (scalars, mappings, lists) the document holds once every alias is expanded: a
# 345-byte alias bomb names billions, a real config a few hundred.
MAX_VALUES = 100_000
# libyaml's parser when PyYAML was built with it (10x faster), else the pure-Python one.
_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_config_text(path: Path, what: str) -> str:
    """The UTF-8 text of config file `path`, reading at most MAX_CONFIG_BYTES + 1 bytes."""
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise InvalidInput(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise InvalidInput(f"{what} {path} is a folder, not a file") from None
    except OSError as error:
        raise InvalidInput(f"{what} {path} cannot be read ({error.strerror})") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise InvalidInput(
            f"{what} {path} is larger than {MAX_CONFIG_BYTES} bytes; a config is a few kB"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput(f"{what} {path} is not UTF-8 text (byte {error.start} is not)") from None


def load_yaml(text: str, what: str) -> Any:
    """Parse YAML `text` after checking, on its parse events, its depth and the values its
    aliases expand to; raises InvalidInput naming `what` (and the line) on any problem."""
    try:
        _check_events(text, what)
        return yaml.load(text, Loader=_LOADER)  # a safe loader
    except InvalidInput:
        raise
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise InvalidInput(f"{what} is not valid YAML{line}: {problem}") from None
    except (ValueError, RecursionError) as error:
        # e.g. an integer of more than 4300 digits, which Python refuses to convert.
        reason = str(error).split(";")[0]
        raise InvalidInput(f"{what} holds a value that cannot be read ({reason})") from None


def _check_events(text: str, what: str) -> None:
    """Walk the parse events (no value is built) and refuse a document nested deeper than
    MAX_DEPTH or holding more than MAX_VALUES values once its aliases are expanded."""
    # Per open mapping or list: [anchor, values inside, height]; per anchor, what an
    # alias to it brings in: (values, height).
    anchored: dict[str, tuple[int, int]] = {}
    stack: list[list[Any]] = [[None, 0, 0]]
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.CollectionStartEvent):
            stack.append([event.anchor, 0, 0])
            if len(stack) - 1 > MAX_DEPTH:
                raise InvalidInput(
                    f"{what}: nested deeper than {MAX_DEPTH} levels at line "
                    f"{event.start_mark.line + 1}"
                )
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            anchor, values, height = stack.pop()
            size = (values + 1, height + 1)
        elif isinstance(event, yaml.ScalarEvent):
            anchor, size = event.anchor, (1, 0)
        elif isinstance(event, yaml.AliasEvent):
            anchor, size = None, anchored.get(event.anchor, (1, 0))
        else:
            continue
        if anchor is not None:
            anchored[anchor] = size
        parent = stack[-1]
        parent[1] += size[0]
        parent[2] = max(parent[2], size[1])
        if parent[1] > MAX_VALUES or len(stack) - 1 + size[1] > MAX_DEPTH:
            line = event.start_mark.line + 1
            if parent[1] > MAX_VALUES:
                raise InvalidInput(
                    f"{what}: more than {MAX_VALUES} values once its aliases are expanded "
                    f"(at line {line}); refused as a possible alias bomb"
                )
            raise InvalidInput(
                f"{what}: nested deeper than {MAX_DEPTH} levels once its aliases are "
                f"expanded (at line {line})"
            )


def load_json(data: str | bytes, what: str) -> Any:
    """Parse JSON, refusing (InvalidInput naming `what`) text that is not JSON or that is
    nested deeper than MAX_DEPTH."""
    try:
        value = json.loads(data)
    except UnicodeDecodeError:
        raise InvalidInput(f"{what} is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{what} is not JSON (line {error.lineno}: {error.msg})") from None
    except RecursionError:
        raise InvalidInput(f"{what}: nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:  # e.g. an integer of more than 4300 digits
        reason = str(error).split(";")[0]
        raise InvalidInput(f"{what} holds a value that cannot be read ({reason})") from None
    _check_depth(value, what)
    return value


def _check_depth(value: Any, what: str) -> None:
    """Refuse `value` if its lists and objects nest deeper than MAX_DEPTH (no recursion:
    the walk itself must not be what overflows)."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= MAX_DEPTH:
            raise InvalidInput(f"{what}: nested deeper than {MAX_DEPTH} levels")
        pending.extend((child, depth + 1) for child in children)
