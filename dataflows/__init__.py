"""Bytewax dataflows: thin wiring from the `actions` topic through the domain to `games`."""
