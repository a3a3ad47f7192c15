"""Session configuration: defaults, presets, YAML loading and errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from steering_core.config import PRESETS, load_config_file, make_config
from steering_core.errors import InvalidInput


def test_defaults_run_the_loop() -> None:
    config = make_config({"prompt": "a cat"})
    assert (config.k, config.d, config.steps) == (8, 8, 20)
    assert config.sampler.name == "trust_region"
    assert config.preference_model.name == "bradley_terry"


@pytest.mark.parametrize(("preset", "d"), sorted(PRESETS.items()))
def test_preset_sets_d(preset: str, d: int) -> None:
    assert make_config({"prompt": "a cat", "preset": preset}).d == d


def test_explicit_d_wins_over_preset() -> None:
    assert make_config({"prompt": "a cat", "preset": "fast-explore", "d": 12}).d == 12


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"prompt": ""}, "prompt: must not be empty"),
        ({"prompt": "x" * 100_000}, "prompt: must be at most 2000 characters"),
        ({"prompt": "bad \udcff bytes"}, "prompt: must be valid UTF-8"),
        ({"prompt": "a", "k": 1}, "k: must be greater than or equal to 2"),
        ({"prompt": "a", "k": 33}, "k: must be less than or equal to 32"),
        ({"prompt": "a", "d": 0}, "d: must be greater than or equal to 1"),
        ({"prompt": "a", "d": 65}, "d: must be less than or equal to 64"),
        ({"prompt": "a", "sampler": {"name": "nope"}}, "unknown sampler 'nope'; allowed:"),
        (
            {"prompt": "a", "preference_model": {"name": "nope"}},
            "unknown preference model 'nope'; allowed: bradley_terry",
        ),
        ({"prompt": "a", "sampler": {"name": "trust_region", "params": {"x": 1}}}, "bad params"),
        ({"prompt": "a", "feedback_mode": "vibes"}, "feedback_mode: must be one of"),
        ({"prompt": "a", "colour": "red"}, "colour: unknown field"),
        ({"prompt": "a", "generator": {"device": "tpu"}}, "generator.device"),
        ({"prompt": "a", "width": 30}, "width"),
        ({"prompt": "a", "basis": {"kind": "attribute"}}, "needs at least one word pair"),
    ],
)
def test_bad_values_name_the_field(data: dict, expected: str) -> None:
    with pytest.raises(InvalidInput, match=None) as error:
        make_config(data)
    assert expected in str(error.value)
    assert "\n" not in str(error.value)


def test_every_bad_field_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as error:
        make_config({"prompt": "", "k": 40, "sampler": {"name": "nope"}})
    message = str(error.value)
    assert "prompt:" in message and "k:" in message and "nope" in message


def test_yaml_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "my.yaml"
    path.write_text(
        "prompt: a yellow star\nk: 6\npreset: high-capacity\n"
        "basis:\n  kind: attribute\n  pairs: [[red, blue]]\n"
        "sampler:\n  name: trust_region\n  params: {exploit_fraction: 0.5}\n",
        encoding="utf-8",
    )
    config = load_config_file(path, overrides={"k": 10})
    assert (config.k, config.d, config.basis.pairs) == (10, 16, [("red", "blue")])
    assert make_config(config.to_dict()) == config


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("prompt: [unclosed\n", "is not valid YAML at line"),
        ("- a\n- list\n", "must be a mapping"),
        ("prompt: a\nk: forty\n", "k: Input should be a valid integer"),
    ],
)
def test_bad_yaml_files(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as error:
        load_config_file(path)
    assert expected in str(error.value)
    assert str(path) in str(error.value)


def test_missing_and_binary_config_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        load_config_file(tmp_path / "nope.yaml")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"prompt: \xff\xfe\n")
    with pytest.raises(InvalidInput, match="not UTF-8"):
        load_config_file(binary)
