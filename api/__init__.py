"""The query side: reads the recovery store (interactive queries) and serves it over HTTP."""
