"""`steer plugins`: every registered plug-in, and the hyperparameters samplers and preference
models declare (the same declarations the config checks and the dashboard's form shows)."""

from __future__ import annotations

import click

from steering_core.cli.app import cli, print_json

KINDS = ("samplers", "models", "generators", "synthetic-users")


def _registries() -> dict[str, object]:
    from steering_core.generators.base import GENERATORS
    from steering_core.models.base import PREFERENCE_MODELS
    from steering_core.samplers.base import SAMPLERS
    from steering_core.synthetic.users import SYNTHETIC_USERS

    return {
        "samplers": SAMPLERS,
        "models": PREFERENCE_MODELS,
        "generators": GENERATORS,
        "synthetic-users": SYNTHETIC_USERS,
    }


def _summary(plugin_class: type) -> str:
    """The docstring's first paragraph, on one line."""
    paragraph = (plugin_class.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(line.strip() for line in paragraph.splitlines())


@cli.command("plugins")
@click.argument("kind", required=False, metavar="KIND", type=click.Choice(KINDS))
@click.option("--json", "as_json", is_flag=True, help="Print the plug-ins as JSON.")
def plugins_command(kind: str | None, as_json: bool) -> None:
    """List registered plug-ins; samplers and models with their parameters (name, default,
    meaning, allowed range), as a config's `sampler.params` / `preference_model.params` take
    them."""
    from steering_core.hyperparameters import describe_parameters

    listing: dict[str, list[dict]] = {}
    for name_of_kind, registry in _registries().items():
        if kind not in (None, name_of_kind):
            continue
        entries = []
        for name in registry.names():  # type: ignore[attr-defined]
            plugin_class = registry.get(name)  # type: ignore[attr-defined]
            entry: dict = {"name": name, "summary": _summary(plugin_class)}
            if name_of_kind in ("samplers", "models"):
                entry["parameters"] = [
                    {
                        "name": spec.name,
                        "default": spec.default,
                        "meaning": spec.meaning,
                        "allowed": spec.allowed(),
                    }
                    for spec in describe_parameters(registry, name)  # type: ignore[arg-type]
                ]
            entries.append(entry)
        listing[name_of_kind] = entries
    if as_json:
        print_json(listing)
        return
    for name_of_kind, entries in listing.items():
        click.echo(f"{name_of_kind}:")
        for entry in entries:
            click.echo(f"  {entry['name']}: {entry['summary']}")
            for spec in entry.get("parameters", []):
                click.echo(
                    f"      {spec['name']} (default {spec['default']!r}): {spec['meaning']}; "
                    f"{spec['allowed']}"
                )
