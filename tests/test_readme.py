"""The README's quick start is what CI runs, and the docs a user reads stay true to the code."""

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

    configuration = (ROOT / "docs" / "configuration.md").read_text()
    for name, field in Settings.model_fields.items():
        default = "unset" if field.default is None else field.default
        assert f"| `MOBA_{name.upper()}` | `{default}` |" in configuration, name


def user_docs() -> list[Path]:
    """The README and every page under docs/, the lab notes included."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def relative_links(page: Path) -> list[str]:
    """Targets of the page's markdown links and images that are not URLs or anchors."""
    targets = re.findall(r"\]\(([^)\s]+)\)", page.read_text())
    return [t.split("#", 1)[0] for t in targets if not re.match(r"[a-z]+:|#", t)]


def test_every_relative_link_in_the_docs_points_at_a_file_that_exists() -> None:
    broken = [
        f"{page.relative_to(ROOT)}: {target}"
        for page in user_docs()
        for target in relative_links(page)
        if not (page.parent / target).exists()
    ]
    assert not broken, broken
