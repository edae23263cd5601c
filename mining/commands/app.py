"""``mining app``: the workbench in the browser, on the same workspace."""

from __future__ import annotations

import click

__all__ = ["app_cmd"]


@click.command("app")
@click.option("--port", default=8501, show_default=True)
@click.pass_context
def app_cmd(ctx: click.Context, port: int) -> None:
    """Open the workbench in the browser (Streamlit)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import mining

    app = Path(mining.__file__).resolve().parent.parent / "app.py"
    env = dict(os.environ, MINING_WORKSPACE=str(Path(ctx.obj["workspace"]).resolve()))
    sys.exit(
        subprocess.call(
            [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port)], env=env
        )
    )
