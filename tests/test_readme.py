"""The README's quick start is what CI runs: the two stay one command."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:sh|bash|shell)?\n(.*?)```", section, re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_quick_start_has_exactly_two_commands() -> None:
    commands = quick_start_commands()
    assert len(commands) == 2, commands
    assert "moba" in commands[0] and "pytest" in commands[1]


def test_ci_runs_the_readmes_test_command() -> None:
    ci_lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert quick_start_commands()[1] in ci_lines


def test_every_setting_is_documented_with_its_default() -> None:
    from infra.settings import Settings

    readme = (ROOT / "README.md").read_text()
    for name, field in Settings.model_fields.items():
        default = "unset" if field.default is None else field.default
        assert f"| `MOBA_{name.upper()}` | `{default}` |" in readme, name
