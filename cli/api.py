"""`moba api`: serve the web page, the WebSocket gateway and the query API."""

from pathlib import Path
from typing import Annotated, Any

import typer

from infra.settings import Settings

DEFAULTS = Settings.model_fields  # shown in --help; the values come from Settings itself


def api(
    host: Annotated[
        str | None,
        typer.Option(
            envvar="MOBA_API_HOST", show_default=DEFAULTS["api_host"].default, help="Bind address."
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            envvar="MOBA_API_PORT",
            min=0,
            max=65535,
            show_default=str(DEFAULTS["api_port"].default),
            help="Port.",
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            envvar="MOBA_DATA_DIR",
            show_default=str(DEFAULTS["data_dir"].default),
            help="Data directory holding `recovery/`.",
        ),
    ] = None,
) -> None:
    """Serve the page at /, WebSockets /games/{id}/play and /watch, GET /games...; OpenAPI at /docs.

    Probes at /health/live and /health/ready, Prometheus metrics at /metrics.
    """
    import uvicorn

    from api.app import create_app

    overrides: dict[str, Any] = {"api_host": host, "api_port": port, "data_dir": data_dir}
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        # every state goes to every socket of its game: compressing each copy apart made
        # deflate the gateway's largest cost (docs/gateway.md, Load)
        ws_per_message_deflate=False,
    )
