"""Import direction and start-up cost of the query side, checked in fresh interpreters."""

import subprocess
import sys


def modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {name.split(".")[0] for name in out.stdout.split()}


def test_the_api_imports_neither_the_dataflow_nor_the_client() -> None:
    loaded = modules_after("import api.app, api.events, api.store")
    assert not loaded & {"dataflows", "client", "cli", "bytewax"}


def test_the_query_commands_load_no_web_server_kafka_or_store_until_run() -> None:
    loaded = modules_after("import cli.games, cli.api")
    assert not loaded & {"fastapi", "uvicorn", "confluent_kafka", "sqlite3", "api", "sqlite_utils"}
