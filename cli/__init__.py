"""The `moba` command line: one Typer app per command group, mounted in `cli.main`."""
