"""``discorecs serve``: the HTTP API and web app under uvicorn."""

from __future__ import annotations

import click

from discorecs.app.options import setting_option
from discorecs.core.cassandra import session_scope
from discorecs.core.settings import load_settings


@click.command("serve")
@setting_option("--host", setting="api.host", help="Address to bind (loopback by default).")
@setting_option("--port", setting="api.port", type=int, help="Port to listen on.")
def serve(host: str, port: int) -> None:
    """Serve the API (OpenAPI at /docs) and the web app (/) until stopped."""
    import uvicorn

    from discorecs.app.api.app import create_app

    settings = load_settings().with_updates(api={"host": host, "port": port})
    with session_scope(settings):  # unreachable: one line (cli.Main), not a lifespan traceback
        pass
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
