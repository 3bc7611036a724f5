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


def test_the_moba_command_loads_no_kafka_dataflow_or_terminal_ui_until_a_command_runs() -> None:
    """Every command pays for what `cli.main` imports (`moba games show` is benchmarked)."""
    loaded = modules_after("import cli.main")
    assert not loaded & {"confluent_kafka", "bytewax", "prompt_toolkit", "client", "fastapi"}


def test_the_recovery_store_module_loads_neither_bytewax_nor_kafka() -> None:
    """The query side reads the store through infra.recovery; the dataflow's runtime stays out."""
    loaded = modules_after("import infra.recovery")
    assert not loaded & {"bytewax", "confluent_kafka", "dataflows", "api", "cli"}
