"""`steer session new`, `session rename`, `sessions`, `status` and `fork`: creating, naming
and listing sessions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from steering_core.cli.app import cli, print_json, workspace_of
from steering_core.cli.params import (
    ID_RANGE,
    ConfigValue,
    PathText,
    RegisteredName,
    SessionId,
    SessionName,
    WordPair,
)
from steering_core.errors import InvalidInput
from steering_core.session_names import MAX_NAME_CHARS, fork_label, session_label

NAME_HELP = f"A name for the session (at most {MAX_NAME_CHARS} characters)."

# Flag -> config field, for the flags that set one field each.
_FIELDS = {
    "prompt": "prompt",
    "negative_prompt": "negative_prompt",
    "k": "k",
    "d": "d",
    "preset": "preset",
    "steps": "steps",
    "guidance": "guidance_scale",
    "width": "width",
    "height": "height",
    "trust_radius": "trust_radius",
    "feedback_mode": "feedback_mode",
    "seed_policy": "seed_policy",
    "seed": "seed",
}
_GENERATOR_FIELDS = ("backend", "model", "device", "dtype")


def config_overrides(options: dict[str, Any]) -> dict[str, Any]:
    """CLI flags as a nested config mapping (only the flags that were given)."""
    overrides: dict[str, Any] = {
        field: options[flag] for flag, field in _FIELDS.items() if options.get(flag) is not None
    }
    generator = {
        field: options[field] for field in _GENERATOR_FIELDS if options.get(field) is not None
    }
    if generator:
        overrides["generator"] = generator
    if options.get("basis") is not None or options.get("pair"):
        basis: dict[str, Any] = {}
        if options.get("basis") is not None:
            basis["kind"] = options["basis"]
        if options.get("pair"):
            basis["pairs"] = [list(pair) for pair in options["pair"]]
        overrides["basis"] = basis
    if options.get("sampler") is not None:
        overrides["sampler"] = {"name": options["sampler"]}
    if options.get("preference_model") is not None:
        overrides["preference_model"] = {"name": options["preference_model"]}
    return overrides


def config_options(function: Any) -> Any:
    """The flags of `steer session new` that set config fields."""
    options = [
        click.option("--prompt", type=ConfigValue("prompt"), help="What the image should show."),
        click.option(
            "--negative-prompt",
            type=ConfigValue("negative_prompt"),
            help="What it should not show.",
        ),
        click.option("--backend", help="Generator backend (default: diffusers)."),
        click.option("--model", help="Local diffusers pipeline folder or cached model id."),
        click.option(
            "--device", type=ConfigValue("generator.device"), help="auto, cpu, cuda, cuda:N or mps."
        ),
        click.option(
            "--dtype",
            type=ConfigValue("generator.dtype"),
            help="auto, float32, float16 or bfloat16.",
        ),
        click.option("--k", type=ConfigValue("k"), help="Candidates per round (2-32, default 8)."),
        click.option("--d", type=ConfigValue("d"), help="Steering dimension (1-64)."),
        click.option(
            "--preset",
            type=ConfigValue("preset"),
            help="fast-explore (d=4), balanced (d=8), high-capacity (d=16).",
        ),
        click.option("--steps", type=ConfigValue("steps"), help="Denoising steps (1-200)."),
        click.option(
            "--guidance", type=ConfigValue("guidance_scale"), help="Guidance scale (0-30)."
        ),
        click.option(
            "--width", type=ConfigValue("width"), help="Image width in pixels (multiple of 8)."
        ),
        click.option(
            "--height", type=ConfigValue("height"), help="Image height in pixels (multiple of 8)."
        ),
        click.option(
            "--basis", type=ConfigValue("basis.kind"), help="random_orthogonal, pca or attribute."
        ),
        click.option(
            "--pair",
            type=WordPair(),
            multiple=True,
            help="Attribute word pair FROM:TO (repeatable).",
        ),
        click.option(
            "--trust-radius",
            type=ConfigValue("trust_radius"),
            help="Sampler radius, relative (0-2].",
        ),
        click.option(
            "--sampler",
            type=RegisteredName("sampler"),
            help="Registered sampler name (`steer plugins` lists them and their parameters).",
        ),
        click.option(
            "--preference-model",
            type=RegisteredName("preference model"),
            help="Registered preference model name (`steer plugins` lists them, with parameters).",
        ),
        click.option(
            "--feedback-mode",
            type=ConfigValue("feedback_mode"),
            help="Default feedback mode of the session.",
        ),
        click.option(
            "--seed-policy",
            type=ConfigValue("seed_policy"),
            help="fixed, per_round or per_candidate.",
        ),
        click.option("--seed", type=ConfigValue("seed"), help="Random seed of the session."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@cli.group()
def session() -> None:
    """Create steering sessions."""


@session.command("new")
@click.option(
    "--config",
    "config_file",
    type=PathText(dir_okay=False, path_type=Path),
    help="YAML config; flags override it.",
)
@config_options
@click.option("--name", type=SessionName(), default="", help=NAME_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the session as JSON.")
@click.pass_context
def session_new(
    ctx: click.Context, config_file: Path | None, name: str, as_json: bool, **options: Any
) -> None:
    """Start a steering session."""
    from steering_core.config import load_config_file, make_config
    from steering_core.sessions import create_session

    overrides = config_overrides(options)
    if config_file is not None:
        config = load_config_file(config_file, overrides)
    else:
        if "prompt" not in overrides:
            raise InvalidInput("prompt: required (give --prompt or --config)")
        config = make_config(overrides)
    record = create_session(workspace_of(ctx), config, source="cli", name=name)
    if as_json:
        print_json({"session_id": record.id, "name": record.name, "config": record.config})
    else:
        click.echo(
            f"session {session_label(record.id, record.name)}: {config.prompt!r} "
            f"(k={config.k}, d={config.d})"
        )
        click.echo("next: steer round")


@session.command("rename")
@click.argument("session_id", type=SessionId())
@click.argument("name", type=SessionName())
@click.pass_context
def session_rename(ctx: click.Context, session_id: str, name: str) -> None:
    """Give a session a name (an empty NAME removes it)."""
    from steering_core.sessions import rename_session

    record = rename_session(workspace_of(ctx), session_id, name)
    click.echo(f"session {session_label(record.id, record.name)}")


@cli.command("sessions")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def sessions_command(ctx: click.Context, as_json: bool) -> None:
    """List the sessions of the data root, newest first."""
    from steering_core.sessions import list_sessions

    sessions = list_sessions(workspace_of(ctx))
    if as_json:
        print_json(sessions)
        return
    if not sessions:
        click.echo("no sessions yet")
    for item in sessions:
        fork = fork_label(item["forked_from_session"], item["forked_from_round"])
        click.echo(
            f"{item['id']}  {item['created_at'][:19]}  rounds={item['rounds']:<3} "
            f"judgments={item['judgments']:<4} "
            + (f"{item['name']!r}  " if item["name"] else "")
            + f"{item['prompt'][:60]!r}"
            + (f"  ({fork}; id {item['forked_from_candidate_id']})" if fork else "")
        )


@cli.command("status")
@click.argument("session_id", type=SessionId(), required=False)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def status_command(ctx: click.Context, session_id: str | None, as_json: bool) -> None:
    """Round, incumbent and judgment counts of a session (default: the latest)."""
    from steering_core.status import session_status

    status = session_status(workspace_of(ctx), session_id)
    if as_json:
        print_json(status)
        return
    click.echo(
        f"session {session_label(status['session_id'], status['name'])}: {status['prompt']!r}"
    )
    if status["forked_from"]:
        origin = status["forked_from"]
        click.echo(
            f"{fork_label(origin['session_id'], origin['round_index'])}, "
            f"candidate {origin['number']} (id {origin['candidate_id']})"
        )
    click.echo(
        f"rounds: {status['rounds']}  judgments: {status['judgments']} "
        f"{status['judgments_by_mode']}  undone: {status['undone']}  "
        f"comparisons: {status['comparisons']}  candidates shown: {status['candidates_shown']}"
    )
    incumbent = status["incumbent"]
    if incumbent:
        utility = incumbent["predicted_utility"]
        click.echo(
            f"incumbent: candidate {incumbent['number']} of round {incumbent['round_index']}, "
            f"distance from prompt {incumbent['distance_from_prompt']:.3f}"
            + (f", predicted utility {utility:.3f}" if utility is not None else "")
        )
        click.echo(f"  image: {incumbent['image_path']}")
    click.echo(f"labels: {status['labels_csv']}")


@cli.command("fork")
@click.argument("candidate_id", type=ID_RANGE)
@click.option(
    "--prompt",
    type=ConfigValue("prompt"),
    help="A new prompt for the fork (default: the parent's).",
)
@click.option("--negative-prompt", type=ConfigValue("negative_prompt"))
@click.option("--k", type=ConfigValue("k"))
@click.option("--trust-radius", type=ConfigValue("trust_radius"))
@click.option("--name", type=SessionName(), default="", help=NAME_HELP)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def fork_command(
    ctx: click.Context, candidate_id: int, name: str, as_json: bool, **options: Any
) -> None:
    """Start a new session from any past candidate, by its id (`steer show` lists it as
    id=N); lineage is kept."""
    from steering_core.sessions import fork_origin, fork_session

    overrides = config_overrides(options)
    workspace = workspace_of(ctx)
    record = fork_session(workspace, candidate_id, overrides, source="cli", name=name)
    origin = fork_origin(workspace, record)
    assert origin is not None  # a fork's candidate is stored
    if as_json:
        print_json(
            {
                "session_id": record.id,
                "name": record.name,
                "forked_from_candidate_id": candidate_id,
                "forked_from_session": origin.session_id,
                "forked_from_round": origin.round_index,
            }
        )
    else:
        click.echo(
            f"session {session_label(record.id, record.name)}: "
            f"{fork_label(origin.session_id, origin.round_index)}, "
            f"candidate {origin.slot + 1} (id {candidate_id})"
        )
        click.echo(f"next: steer round {record.id}")
