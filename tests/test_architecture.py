"""The layout tells the architecture: imports only point inwards, towards the pure domain."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ADAPTERS = ("dataflows", "client", "api")
PROJECT = ("domain", "infra", *ADAPTERS, "cli")


def imported_top_levels(package: str) -> set[str]:
    names: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def test_domain_imports_only_the_standard_library_and_pydantic() -> None:
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import domain, domain.board, domain.models, domain.phrases, domain.render, domain.rules, domain.wire\n"
        "std = set(sys.stdlib_module_names)\n"
        "print(sorted({m.split('.')[0] for m in set(sys.modules) - before} - std))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = {m for m in ast.literal_eval(out.stdout.strip()) if not m.startswith("_sysconfigdata")}
    allowed = {
        "domain",
        "pydantic",
        "pydantic_core",
        "typing_extensions",
        "annotated_types",
        "typing_inspection",
    }
    assert loaded <= allowed, f"domain pulled in {sorted(loaded - allowed)}"


@pytest.mark.parametrize("package", ADAPTERS)
def test_adapters_never_import_each_other_or_the_cli(package: str) -> None:
    others = set(ADAPTERS) - {package} | {"cli"}
    assert not imported_top_levels(package) & others


def test_infra_knows_nothing_of_the_adapters() -> None:
    assert not imported_top_levels("infra") & {*ADAPTERS, "cli"}


@pytest.mark.parametrize("package", ("domain", "infra", *ADAPTERS))
def test_only_the_cli_and_the_tests_import_the_bench(package: str) -> None:
    assert "bench" not in imported_top_levels(package)


def test_the_bench_sits_beside_the_cli_and_never_imports_the_tests() -> None:
    """It measures what `moba` runs (the stack, the adapters), so it may import them all."""
    assert "tests" not in imported_top_levels("bench")


def test_tests_hold_no_measurement_scripts() -> None:
    """Anything runnable as `python -m ...` that measures belongs in bench/."""
    runnable = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "tests").rglob("*.py")
        if any(
            isinstance(node, ast.Compare)
            and isinstance(node.left, ast.Name)
            and node.left.id == "__name__"
            for node in ast.walk(ast.parse(path.read_text()))
        )
    ]
    assert runnable == []


def test_only_the_edges_touch_kafka_or_sqlite() -> None:
    assert not imported_top_levels("domain") & {
        "confluent_kafka",
        "sqlite3",
        "sqlite_utils",
        "bytewax",
    }
