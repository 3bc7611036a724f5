"""Import direction: the client and the bots see domain and infra, never the dataflow or API."""

import subprocess
import sys

CLIENT_MODULES = [
    "client.app",
    "client.bots",
    "client.keymap",
    "client.strategy",
    "client.transport",
    "client.view",
]


def test_the_client_imports_neither_the_dataflow_nor_the_api() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in CLIENT_MODULES)
        + "print(sorted({n.split('.')[0] for n in sys.modules} & {'dataflows', 'api', 'cli'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_pure_client_modules_import_no_kafka_and_no_terminal() -> None:
    code = (
        "import sys\n"
        "import client.view, client.keymap, client.strategy\n"
        "print(sorted({n.split('.')[0] for n in sys.modules}"
        " & {'confluent_kafka', 'prompt_toolkit'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
