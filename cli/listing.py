"""How every listing prints: a table for people, or JSON for programs (`--json`).

The table is Rich's, without borders, so a shell can still cut its columns; the JSON
is one array of objects with the same fields, unformatted (seconds as numbers).
"""

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import typer

AsJson = Annotated[
    bool, typer.Option("--json", help="Print a JSON array of objects instead of a table.")
]


def print_listing(
    rows: Sequence[Mapping[str, Any]],
    columns: Mapping[str, str],
    *,
    as_json: bool,
    empty: str,
    cells: Mapping[str, Any] | None = None,
) -> None:
    """`rows` as a table of `columns` (field -> heading), or as JSON; `empty` when there are none.

    `cells` optionally formats a field for the table (field -> function of the row).
    """
    if as_json:
        typer.echo(json.dumps([dict(row) for row in rows]))
        return
    if not rows:
        typer.echo(empty)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for field, heading in columns.items():
        numeric = all(isinstance(row.get(field), int | float) for row in rows)
        table.add_column(heading, justify="right" if numeric else "left", no_wrap=True)
    shown = cells or {}
    for row in rows:
        table.add_row(
            *(
                str(shown[field](row) if field in shown else _plain(row.get(field)))
                for field in columns
            )
        )
    # a pipe or a file gets every column whole, however wide
    Console(width=None if sys.stdout.isatty() else 10_000, highlight=False).print(table)


def _plain(value: Any) -> str:
    return "-" if value is None else str(value)
