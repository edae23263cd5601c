"""``mining presets``: the export presets ``mining ingest --preset`` accepts.

``--json`` prints ``{"presets": [{"name", "title", "description"}, ...]}``
in the order the app lists them.
"""

from __future__ import annotations

import click

from mining.commands.common import emit_json, fail_cleanly

__all__ = ["presets_cmd"]


@click.command("presets")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@fail_cleanly
def presets_cmd(as_json: bool) -> None:
    """List the presets that read business systems' exports (Jira, ServiceNow, SAP, ...)."""
    from mining.ingest.presets import presets

    items = presets()
    if as_json:
        emit_json({"presets": [{"name": n, "title": t, "description": d} for n, t, d in items]})
        return
    width = max((len(n) for n, _, _ in items), default=0)
    for name, title, description in items:
        click.echo(f"{name:<{width}}  {title}")
        click.echo(f"{'':<{width}}  {description}")
    click.echo("Use one with: mining ingest EXPORT --preset NAME (the default, --preset auto, detects it).")
