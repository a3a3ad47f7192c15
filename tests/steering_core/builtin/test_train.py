"""Training the built-in model: a run is reproducible from its seed and resumes exactly."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from steering_core.builtin.train import TrainConfig, train
from steering_core.errors import InvalidInput

TINY = {
    "batch_size": 4,
    "bank_size": 32,
    "block_out_channels": (32, 32),
    "attention_heads": 2,
    "checkpoint_every": 2,
    "warmup_steps": 2,
}


def exported_weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(folder / "unet" / "diffusion_pytorch_model.safetensors")


def test_resumed_training_equals_one_uninterrupted_run(tmp_path: Path) -> None:
    straight = train(TrainConfig(steps=4, **TINY), tmp_path / "a")
    train(TrainConfig(steps=2, **TINY), tmp_path / "b")
    resumed = train(TrainConfig(steps=4, **TINY), tmp_path / "b")  # picks up at step 2
    a, b = exported_weights(straight), exported_weights(resumed)
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=0)
    with open(tmp_path / "b" / "loss.csv", newline="") as handle:
        steps = [int(row["step"]) for row in csv.DictReader(handle)]
    assert steps == [1, 2, 3, 4]


def test_resuming_with_other_settings_is_refused(tmp_path: Path) -> None:
    train(TrainConfig(steps=2, **TINY), tmp_path / "run")
    with pytest.raises(InvalidInput, match="only --steps may change"):
        train(TrainConfig(steps=4, **{**TINY, "seed": 1}), tmp_path / "run")
