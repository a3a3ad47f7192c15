"""The steering page's setup form starts from the session config's own defaults."""

from __future__ import annotations

from dashboard import ids
from dashboard.callbacks.session import new_session_config
from dashboard.layout.steer import setup_panel
from steering_core.config import PRESETS, SessionConfig, make_config
from tests.dashboard.helpers import find


def _form() -> object:
    return setup_panel(
        ["builtin", "diffusers"],
        ["trust_region", "thompson"],
        ["bradley_terry", "ideal_point"],
        [],
        None,
    )


def test_the_setup_form_starts_from_the_config_defaults() -> None:
    form = _form()
    config = SessionConfig(prompt="a red circle")
    shown = {
        "generator": find(form, ids.GENERATOR).value,
        "feedback_mode": find(form, ids.FEEDBACK_MODE).value,
        "k": find(form, ids.K).value,
        "d": PRESETS[find(form, ids.PRESET).value],
        "steps": find(form, ids.STEPS).value,
        "guidance_scale": find(form, ids.GUIDANCE).value,
    }
    assert shown == {
        "generator": config.generator.backend,
        "feedback_mode": config.feedback_mode,
        "k": config.k,
        "d": config.d,
        "steps": config.steps,
        "guidance_scale": config.guidance_scale,
    }
    # The dashboard's one choice of its own (docs/DECISIONS.md).
    assert find(form, ids.SAMPLER).value == "thompson"
    assert find(form, ids.PREFERENCE_MODEL).value == "ideal_point"


def test_the_number_fields_take_what_the_config_accepts() -> None:
    form = _form()
    bounds = {
        name: (find(form, component).min, find(form, component).max)
        for name, component in [
            ("k", ids.K),
            ("d", ids.D),
            ("steps", ids.STEPS),
            ("guidance_scale", ids.GUIDANCE),
        ]
    }
    assert bounds == {"k": (2, 32), "d": (1, 64), "steps": (1, 200), "guidance_scale": (0, 30)}


def test_the_form_as_it_starts_gives_the_session_an_empty_form_gives() -> None:
    form = _form()
    shown = {
        "prompt": "a red circle",
        "preset": find(form, ids.PRESET).value,
        "generator": find(form, ids.GENERATOR).value,
        "sampler": find(form, ids.SAMPLER).value,
        "preference_model": find(form, ids.PREFERENCE_MODEL).value,
        "feedback_mode": find(form, ids.FEEDBACK_MODE).value,
        "k": find(form, ids.K).value,
        "d": getattr(find(form, ids.D), "value", None),  # empty: the preset decides
        "steps": find(form, ids.STEPS).value,
        "guidance_scale": find(form, ids.GUIDANCE).value,
    }
    as_shown = make_config(new_session_config(shown)).to_dict()
    empty = make_config(new_session_config({"prompt": "a red circle"})).to_dict()
    assert as_shown.pop("preset") == "balanced" and empty.pop("preset") is None
    assert as_shown == empty
