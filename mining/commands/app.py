"""``mining app``: the workbench in the browser, on the same workspace."""

from __future__ import annotations

import click

from mining.commands.common import fail_cleanly, limit_options

__all__ = ["app_cmd"]


@click.command("app")
@click.option("--port", default=8501, show_default=True)
@limit_options
@click.pass_context
@fail_cleanly
def app_cmd(ctx: click.Context, port: int, memory_limit: str | None, time_limit: str | None) -> None:
    """Open the workbench in the browser (Streamlit).

    --memory-limit and --time-limit bound every upload's reading, conformance check and monitoring run,
    in every session (the server gets them as MINING_MEMORY_LIMIT and MINING_TIME_LIMIT). Without
    --time-limit: 5 minutes for an upload's preview, 1 hour for its ingest, 30 minutes for a check or a
    monitoring run.
    """
    import os
    import subprocess
    import sys
    from pathlib import Path

    import mining
    from mining.commands.common import limits_from

    limits_from(memory_limit, time_limit)  # checked here, so a typo is said before the server starts
    app = Path(mining.__file__).resolve().parent.parent / "app.py"
    env = dict(os.environ, MINING_WORKSPACE=str(Path(ctx.obj["workspace"]).resolve()))
    if memory_limit:
        env["MINING_MEMORY_LIMIT"] = memory_limit
    if time_limit:
        env["MINING_TIME_LIMIT"] = time_limit
    # Streamlit reads .streamlit/config.toml from the working directory: started anywhere else, the
    # server would run without its upload cap, XSRF protection and hidden tracebacks.
    sys.exit(
        subprocess.call(
            [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port)],
            env=env,
            cwd=app.parent,
        )
    )
