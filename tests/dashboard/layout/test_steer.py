"""The setup panel's settings boxes: examples every plug-in accepts, from its declarations."""

from __future__ import annotations

import json

import pytest

from dashboard import ids
from dashboard.layout.steer import DEFAULT_MODEL, DEFAULT_SAMPLER, setup_panel
from steering_core.config import make_config
from steering_core.models import PREFERENCE_MODELS
from steering_core.samplers import SAMPLERS
from tests.dashboard.helpers import find


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
