"""`moba bench`: each published figure beside the physical limit measured in the same run.

Modules by measurement (`throughput`, `latency`, `lifecycle`, `query`), the shared
workload and processes (`workload`), statistics and the report (`report`), plots
(`plots`). Nothing here is imported by the game itself.
"""
