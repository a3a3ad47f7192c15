"""The steering page's setup form: it starts from the session config's own defaults, and its
settings boxes show examples every plug-in accepts, from its declarations."""

from __future__ import annotations

import json

import pytest

from dashboard import ids
from dashboard.callbacks.session import new_session_config
from dashboard.layout.setup_defaults import PREFERENCE_MODEL as DEFAULT_MODEL
from dashboard.layout.setup_defaults import SAMPLER as DEFAULT_SAMPLER
from dashboard.layout.steer import setup_panel
from steering_core.config import PRESETS, SessionConfig, make_config
from steering_core.models import PREFERENCE_MODELS
from steering_core.samplers import SAMPLERS
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


def test_the_number_fields_show_the_config_range_and_send_any_typed_number() -> None:
    # A browser sends an empty value for a number outside an input's min, max or step, and
    # the session then silently took the default (k = 50 became k = 8): the inputs carry
    # none of them, the hint shows the range and the callback names an out-of-range field.
    form = _form()
    fields = [("k", ids.K), ("d", ids.D), ("steps", ids.STEPS), ("guidance", ids.GUIDANCE)]
    fields.append(("trust radius", ids.TRUST_RADIUS))
    for _, component in fields:
        number = find(form, component)
        assert getattr(number, "min", None) is None and getattr(number, "max", None) is None
        assert number.step == "any"
    hints = str(form)
    for shown in ["2-32", "1-64", "1-200", "0-30", "above 0, at most 2"]:
        assert shown in hints


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


def shown_example(box_id: str, sampler: str = DEFAULT_SAMPLER, model: str = DEFAULT_MODEL) -> dict:
    panel = setup_panel([], SAMPLERS.names(), PREFERENCE_MODELS.names(), [], None, sampler, model)
    return json.loads(find(panel, box_id).placeholder)


@pytest.mark.parametrize("sampler", SAMPLERS.names())
def test_the_sampler_example_is_accepted_by_that_sampler(sampler: str) -> None:
    example = shown_example(ids.SAMPLER_PARAMS, sampler=sampler)
    make_config({"prompt": "a", "sampler": {"name": sampler, "params": example}})


@pytest.mark.parametrize("model", PREFERENCE_MODELS.names())
def test_the_model_example_is_accepted_by_that_model(model: str) -> None:
    example = shown_example(ids.MODEL_PARAMS, model=model)
    make_config({"prompt": "a", "preference_model": {"name": model, "params": example}})


def test_a_new_dashboard_shows_examples_its_default_sampler_and_model_accept() -> None:
    # They were {"exploration": 1.0} and {"prior_strength": 1.0}: neither is a parameter of
    # the default Thompson sampler or ideal-point model.
    sampler, model = shown_example(ids.SAMPLER_PARAMS), shown_example(ids.MODEL_PARAMS)
    make_config(
        {
            "prompt": "a",
            "sampler": {"name": DEFAULT_SAMPLER, "params": sampler},
            "preference_model": {"name": DEFAULT_MODEL, "params": model},
        }
    )
    assert "pool_radius" in sampler and "lapse" in model
