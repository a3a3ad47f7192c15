"""`steer builtin train|export` and `steer dev tiny-pipeline`: the shipped model and
developer helpers."""

from __future__ import annotations

from pathlib import Path

import click

from steering_core.cli.app import cli
from steering_core.cli.params import PathText


@cli.group()
def builtin() -> None:
    """The built-in shapes model."""


@builtin.command("train")
@click.option("--steps", type=click.IntRange(1, 10_000_000), default=5000, show_default=True)
@click.option("--batch-size", type=click.IntRange(1, 4096), default=64, show_default=True)
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@click.option(
    "--run-dir",
    type=PathText(file_okay=False, path_type=Path),
    default=Path("checkpoints/runs/builtin"),
    show_default=True,
    help="Checkpoint, loss log and caches; an existing run is resumed.",
)
@click.option(
    "--export-dir",
    type=PathText(file_okay=False, path_type=Path),
    default=None,
    help="Where the trained pipeline goes (default: RUN_DIR/pipeline; the shipped model "
    "lives in checkpoints/builtin).",
)
def builtin_train(
    steps: int, batch_size: int, seed: int, run_dir: Path, export_dir: Path | None
) -> None:
    """Train (or resume training) the built-in model on the procedural world."""
    from steering_core.builtin.train import TrainConfig, train

    folder = train(TrainConfig(steps=steps, batch_size=batch_size, seed=seed), run_dir, export_dir)
    click.echo(f"exported the pipeline to {folder}")


@builtin.command("export")
@click.option(
    "--run-dir",
    type=PathText(file_okay=False, exists=True, path_type=Path),
    default=Path("checkpoints/runs/builtin"),
    show_default=True,
)
@click.argument("folder", type=PathText(file_okay=False, path_type=Path))
def builtin_export(run_dir: Path, folder: Path) -> None:
    """Export a run's latest checkpoint (EMA weights) as a pipeline folder."""
    from steering_core.builtin.train import export_checkpoint

    click.echo(f"exported the pipeline to {export_checkpoint(run_dir, folder)}")


@cli.group()
def dev() -> None:
    """Developer helpers."""


@dev.command("tiny-pipeline")
@click.argument("folder", type=PathText(file_okay=False, path_type=Path))
@click.option("--sdxl", is_flag=True, help="SDXL-style (two text encoders, pooled embeds).")
def dev_tiny_pipeline(folder: Path, sdxl: bool) -> None:
    """Write a tiny random-weight pipeline (for trying the CLI without a checkpoint)."""
    from steering_core.generators.tiny import build_tiny_sd_pipeline, build_tiny_sdxl_pipeline

    (build_tiny_sdxl_pipeline if sdxl else build_tiny_sd_pipeline)(folder)
    click.echo(f"wrote a random-weight pipeline to {folder}")
