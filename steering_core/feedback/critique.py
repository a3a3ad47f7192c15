"""Critique: tags and free text about one candidate or the whole round; no comparison."""

from __future__ import annotations

from typing import Any, ClassVar, Literal, get_args

from pydantic import Field, model_validator

from steering_core.feedback.base import MAX_TEXT_CHARS, FeedbackBase, quoted, slot_name

CritiqueTag = Literal["composition", "realism", "lighting", "colour", "faithfulness", "artifacts"]
CRITIQUE_TAGS: tuple[str, ...] = get_args(CritiqueTag)


class CritiqueFeedback(FeedbackBase):
    """Tags and free text about one candidate or the whole round; no comparison."""

    mode: Literal["critique"] = "critique"
    candidate: int | None = None
    tags: list[CritiqueTag]
    text: str = Field(default="", max_length=MAX_TEXT_CHARS)

    candidate_fields: ClassVar[tuple[str, ...]] = ("candidate",)
    advances: ClassVar[bool] = False  # a note: the round stays open

    @model_validator(mode="after")
    def _something(self) -> CritiqueFeedback:
        if not self.tags and not self.text.strip():
            raise ValueError("critique: give at least one tag or some text")
        return self

    @classmethod
    def _what(cls, raw: dict[str, Any]) -> str:
        """` [tags]: “text”`, each part when given."""
        tags = ", ".join(raw.get("tags") or [])
        text = f" [{tags}]" if tags else ""
        if (raw.get("text") or "").strip():
            text += f": {quoted(raw['text'])}"
        return text

    @classmethod
    def line(cls, raw: dict[str, Any], slots: dict[int, int]) -> str:
        about = "the round" if raw.get("candidate") is None else slot_name(slots, raw["candidate"])
        return f"critique of {about}" + cls._what(raw)

    @classmethod
    def received(cls, raw: dict[str, Any], slots: dict[int, int]) -> dict[int, list[str]]:
        if raw.get("candidate") is None:
            return {}
        return {int(raw["candidate"]): ["critique" + cls._what(raw)]}
