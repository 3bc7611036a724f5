"""`moba api`: serve the web page, the WebSocket gateway and the query API."""

from pathlib import Path
from typing import Annotated, Any

import typer


def api(
    host: Annotated[str | None, typer.Option(help="Bind address [default: MOBA_API_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: MOBA_API_PORT]")] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Data directory holding `recovery/` [default: MOBA_DATA_DIR]"),
    ] = None,
) -> None:
    """Serve the page at /, WebSockets /games/{id}/play and /watch, GET /games...; OpenAPI at /docs."""
    import uvicorn

    from api.app import create_app
    from infra.settings import Settings

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
