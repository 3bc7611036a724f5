"""Measurement in one place: `moba bench`, and the soaks and probes behind the docs' figures.

`moba bench` (`run`) puts each published figure beside the physical limit measured in
the same run (`throughput`, `latency`, `lifecycle`, `query`; `report` and `plots` show
them). Every other module is one measurement, runnable as `python -m bench.NAME` (its
docstring says what it measures and how), e.g. `soak` for crash safety, `memory`,
`gaps`, `gil`, `scaling`. What they share (fresh topics, generated actions, counting
readers) is in `workload`; the dataflow runs as `dataflows.launch` starts it. Only the
CLI and the tests import this package, and it never imports the tests.
"""
