"""Typed option values of `steer`: each converts and checks its text once, at parsing, so a
malformed value is a one-line error naming the option, never a traceback.

Ranges the session config owns are checked against its own field declarations
(`ConfigValue`), so the CLI and a YAML config say the same thing about the same value.
"""

from __future__ import annotations

import math
import tempfile
import types
import typing
from pathlib import Path
from typing import Annotated, Any

import click
from pydantic import TypeAdapter, ValidationError

from steering_core.errors import InvalidInput

# Integers SQLite can hold; larger ones would fail deep inside with an OverflowError.
ID_RANGE = click.IntRange(0, 2**62)
# The longest error line the CLI prints (the rest of a long echoed value is cut).
MESSAGE_CHARS = 300


def shorten(text: str, limit: int = MESSAGE_CHARS) -> str:
    """`text` on one line and at most `limit` characters: a rejected value can be any size
    (a 100 kB --reason), and a message that echoes it whole is unreadable."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def parameter_name(param: click.Parameter | None) -> str | None:
    """How the researcher typed the parameter: `--k` for an option, `SESSION_ID` for an
    argument."""
    if param is None:
        return None
    if isinstance(param, click.Argument):
        return param.human_readable_name
    return param.opts[0] if param.opts else None


class OptionError(click.BadParameter):
    """A bad option value, shown as one line (`error: --k: ...`) like every core error."""

    def format_message(self) -> str:
        name = parameter_name(self.param)
        return f"{name}: {self.message}" if name else self.message

    def show(self, file: Any = None) -> None:
        click.echo(shorten(f"error: {self.format_message()}"), err=True, file=file)


def _fail(message: str, param: click.Parameter | None, ctx: click.Context | None) -> None:
    raise OptionError(message, ctx=ctx, param=param)


def _whole_number(text: str, noun: str = "") -> int:
    try:
        return int(text)
    except ValueError:
        suffix = f" of {noun}" if noun else ""
        raise InvalidInput(f"expected a whole number{suffix} (got {text!r})") from None


def _finite_number(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise InvalidInput(f"expected a number (got {text!r})") from None
    if not math.isfinite(number):
        raise InvalidInput(f"expected a finite number (got {text!r})")
    return number


def _config_field(path: str) -> Any:
    """The declaration (annotation and constraints) of a SessionConfig field, e.g.
    `k` or `generator.device`."""
    from steering_core.config import SessionConfig

    model: Any = SessionConfig
    *parents, name = path.split(".")
    for parent in parents:
        model = model.model_fields[parent].annotation
    return model.model_fields[name]


def _plain_type(annotation: Any) -> Any:
    """`int` for `int | None`, and so on."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        kinds = [a for a in typing.get_args(annotation) if a is not type(None)]
        return kinds[0] if len(kinds) == 1 else annotation
    return annotation


class ConfigValue(click.ParamType):
    """A value of a session config field, checked by the field's own declaration."""

    def __init__(self, path: str, noun: str = "") -> None:
        self.path = path
        self.noun = noun
        self.name = path.rsplit(".", 1)[-1]

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from steering_core.config import describe_validation_error

        field = _config_field(self.path)
        kind = _plain_type(field.annotation)
        try:
            if isinstance(value, str) and kind is int:
                value = _whole_number(value, self.noun)
            elif isinstance(value, str) and kind is float:
                value = _finite_number(value)
        except InvalidInput as error:
            _fail(str(error), param, ctx)
        declared = (
            Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
        )
        adapter: TypeAdapter[Any] = TypeAdapter(declared)
        try:
            return adapter.validate_python(value)
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            message = describe_validation_error({**first, "loc": (self.name,)})
            _fail(message.removeprefix(f"{self.name}: "), param, ctx)


class RegisteredName(click.ParamType):
    """The registered name of a sampler or preference model."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.name = kind

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if self.kind == "sampler":
            from steering_core.samplers import SAMPLERS as registry
        else:
            from steering_core.models import PREFERENCE_MODELS as registry
        try:
            registry.get(value)
        except InvalidInput as error:
            _fail(str(error), param, ctx)
        return value


def _max_number() -> int:
    """The highest card number a round can have: the config's largest k."""
    from annotated_types import Le

    maximum = next(m.le for m in _config_field("k").metadata if isinstance(m, Le))
    return int(maximum)


def _ascii_digits(text: str) -> bool:
    """Whether `text` is plain digits 0-9: `str.isdigit` also passes superscripts (`³`),
    which `int()` refuses."""
    return text.isascii() and text.isdigit()


def _number(text: str) -> int | None:
    """A card number (1..k, as the dashboard numbers a round's images) from text, or None
    when it is not one (too large for any round too)."""
    text = text.strip()
    if not _ascii_digits(text) or len(text) > 6 or not 1 <= int(text) <= _max_number():
        return None
    return int(text)


class CardNumber(click.ParamType):
    """One candidate of a round by its card number (1..k); whether the round has it is
    checked against the round."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int):
            return value
        number = _number(value)
        if number is None:
            _fail(
                f"expected a candidate number from 1 to {_max_number()} (got {value!r})",
                param,
                ctx,
            )
        return number


class CardNumbers(click.ParamType):
    """Comma-separated card numbers, e.g. `1,4`; at least one."""

    name = "numbers"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, list):
            return value
        numbers = [_number(part) for part in value.split(",") if part.strip() != ""]
        if None in numbers:
            _fail(
                f"expected comma-separated candidate numbers, 1 to {_max_number()} (got {value!r})",
                param,
                ctx,
            )
        if not numbers:
            _fail("name at least one candidate, e.g. 1,4", param, ctx)
        return numbers


class CardStars(click.ParamType):
    """`NUMBER=STARS`, a rating of 1-5 stars for the candidate with that card number."""

    name = "number=stars"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        number_text, sep, stars_text = value.partition("=")
        number = _number(number_text)
        if not (sep and number is not None and _ascii_digits(stars_text.strip())):
            _fail(f"expected NUMBER=STARS, e.g. 3=5 (got {value!r})", param, ctx)
        stars = int(stars_text.strip()[:6])
        if not 1 <= stars <= 5:
            _fail(f"stars must be 1-5 (got {stars} for candidate {number})", param, ctx)
        return number, stars


class Pairwise(click.ParamType):
    """`A>B`, `A<B` or `A=B` (a tie), by card number: (first, second, choice)."""

    name = "a>b"
    _CHOICES: typing.ClassVar[dict[str, str]] = {">": "first", "<": "second", "=": "tie"}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        text = value.replace(" ", "")
        symbol = next((s for s in "><=" if s in text), None)
        first, _, second = text.partition(symbol or "><=")
        pair = (_number(first), _number(second))
        if symbol is None or None in pair:
            _fail(f"expected A>B, A<B or A=B (got {text!r})", param, ctx)
        return *pair, self._CHOICES[symbol]  # type: ignore[index]


class Confidence(click.ParamType):
    """How sure a judgment is, a finite number from 0 to 1."""

    name = "confidence"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float):
            return value
        try:
            number = _finite_number(value)
        except InvalidInput as error:
            _fail(str(error), param, ctx)
        if not 0.0 <= number <= 1.0:
            _fail(f"confidence must be from 0 to 1 (got {value})", param, ctx)
        return number


class WordPair(click.ParamType):
    """`FROM:TO`, two words of an attribute axis."""

    name = "from:to"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, list):
            return value
        first, sep, second = value.partition(":")
        if not sep or not first or not second:
            _fail(f"expected WORD:WORD (got {value!r})", param, ctx)
        return [first, second]


class ModelNames(click.ParamType):
    """Comma-separated names of registered preference models."""

    name = "models"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from steering_core.exports.counterfactual import check_model_names

        if isinstance(value, list):
            return value
        names = [part.strip() for part in value.split(",") if part.strip()]
        try:
            return check_model_names(names)
        except InvalidInput as error:
            _fail(str(error).removeprefix("models: "), param, ctx)


class CritiqueTags(click.ParamType):
    """Comma-separated critique tags (`steering_core.feedback.CRITIQUE_TAGS`)."""

    name = "tags"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from steering_core.feedback import CRITIQUE_TAGS

        if isinstance(value, list):
            return value
        tags = [tag.strip() for tag in value.split(",") if tag.strip()]
        unknown = [tag for tag in tags if tag not in CRITIQUE_TAGS]
        if not tags or unknown:
            _fail(
                f"expected comma-separated tags from {', '.join(CRITIQUE_TAGS)} (got {value!r})",
                param,
                ctx,
            )
        return tags


class SessionId(click.ParamType):
    """A session id as typed; blank text is refused rather than read as "the latest session",
    so that a script's unset variable (`steer feedback "$SESSION"`) judges nothing."""

    name = "session"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not str(value).strip():
            _fail("empty; name a session (`steer sessions` lists them)", param, ctx)
        return value


class SessionName(click.ParamType):
    """A session's name ('' for none), checked as every entry point checks it."""

    name = "name"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from steering_core.session_names import check_name

        try:
            return check_name(value)
        except InvalidInput as error:
            _fail(str(error).removeprefix("name: "), param, ctx)


class PathText(click.Path):
    """A path as `click.Path` takes it, except that blank text is refused: `Path("")` is the
    current folder, which nobody means by an empty value."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            _fail("empty; name a path", param, ctx)
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as error:
            _fail(error.message, param, ctx)


def check_writable(folder: Path, option: str) -> None:
    """Refuse, before anything is written, an output `folder` that cannot be created or
    written in: one under a regular file, or in a folder that takes no new files (`/proc`,
    read-only)."""
    existing = Path(folder).absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InvalidInput(f"{option}: {existing} is a file, not a folder; cannot write there")
    try:
        # An unnamed file, gone when closed: the check itself leaves nothing behind.
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise InvalidInput(f"{option}: cannot write in {existing} ({error.strerror})") from None
