"""`moba bench`: every published figure beside its physical limit (docs/benchmarks.md)."""

import json as jsonlib
import time
from pathlib import Path
from typing import Annotated

import typer


def bench(
    repeat: Annotated[int, typer.Option(min=1, help="Runs of each measurement.")] = 3,
    actions: Annotated[
        int | None, typer.Option(min=1, help="Actions pre-loaded for throughput [200000].")
    ] = None,
    games: Annotated[
        int | None, typer.Option(min=1, help="Games those actions are spread over [1000].")
    ] = None,
    live_games: Annotated[
        int | None, typer.Option(min=1, help="Live games for recovery, memory, query [10000].")
    ] = None,
    samples: Annotated[
        int | None, typer.Option(min=1, help="Closed-loop round trips per latency run [1000].")
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Small inputs, one repeat: checks the harness.")
    ] = False,
    json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object of medians (the table to stderr).")
    ] = False,
    plots: Annotated[
        Path | None, typer.Option(help="Write throughput.png and latency.png into this directory.")
    ] = None,
) -> None:
    """Start an embedded broker and measure throughput, latency, start-up, recovery, memory, queries."""
    from dataclasses import replace

    from bench.run import Plan, run

    plan = Plan.quick(repeat if repeat != 3 else 1) if quick else Plan(repeat=repeat)
    overrides = {"actions": actions, "games": games, "live_games": live_games, "samples": samples}
    plan = replace(plan, **{k: v for k, v in overrides.items() if v is not None})
    started = time.monotonic()
    results = run(
        plan, say=lambda line: typer.echo(f"[{time.monotonic() - started:5.0f}s] {line}", err=True)
    )
    if plots is not None:
        from bench.plots import write_plots

        for path in write_plots(results, plots):
            typer.echo(f"wrote {path}", err=True)
    if json:
        typer.echo(results.table(), err=True)  # people read the table; tools read stdout
        typer.echo(jsonlib.dumps(results.as_json(), indent=2))
    else:
        typer.echo(results.table())
