"""Figures (every repeat of a measurement and of its limit), the table and the JSON of `moba bench`."""

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

GATEWAY_KEYS = (  # bench/gateway.py: WebSocket players through one gateway, then direct clients
    "gateway.p50_ms",
    "gateway.p99_ms",
    "gateway.answered_ratio",
    "gateway.batches_per_partition_s",
    "gateway.raw_start_p99_ms",
    "gateway.raw_end_p99_ms",
    "gateway.rss_kb_per_socket",
    "gateway.cores",
    "gateway.us_per_intent",
    "gateway.direct_p50_ms",
    "gateway.direct_p99_ms",
    "gateway.direct_answered_ratio",
    "gateway.direct_batches_per_partition_s",
    "gateway.direct_raw_start_p99_ms",
    "gateway.direct_raw_end_p99_ms",
)
KEYS = (
    "throughput.actions_per_s",
    "throughput.w10_per_s",
    "throughput.limit_per_s",
    "throughput.ratio",
    "throughput.two_process_speedup",
    "throughput.two_process_ceiling",
    "latency.p50_ms",
    "latency.p99_ms",
    "latency.loaded_p99_ms",
    "latency.raw_p50_ms",
    "latency.raw_p99_ms",
    "latency.raw_loaded_p99_ms",
    "latency.dead_letter_loaded_p99_ms",
    "startup.up_s",
    "startup.first_state_s",
    "recovery.resume_s",
    "memory.rss_mb_10k_games",
    "query.cli_s",
    "query.api_p99_ms",
    *GATEWAY_KEYS,
)


@dataclass(frozen=True)
class Target:
    """What a figure must reach: at most/at least a number, or relative to its limit."""

    text: str
    met: Callable[[float, float | None], bool]


TARGETS: dict[str, Target] = {
    "throughput.ratio": Target(">= 0.35", lambda v, _: v >= 0.35),
    "throughput.w10_per_s": Target(">= 0.9x -w 1", lambda v, w1: w1 is not None and v >= 0.9 * w1),
    "throughput.two_process_speedup": Target(">= 1.4", lambda v, _: v >= 1.4),
    "latency.p50_ms": Target("<= 2x raw p50", lambda v, raw: raw is not None and v <= 2 * raw),
    "latency.p99_ms": Target("<= 30 ms", lambda v, _: v <= 30),
    "latency.loaded_p99_ms": Target(
        "<= 2x raw loaded p99", lambda v, raw: raw is not None and v <= 2 * raw
    ),
    "startup.up_s": Target("<= 3 s", lambda v, _: v <= 3),
    "startup.first_state_s": Target("<= 1.5 s", lambda v, _: v <= 1.5),
    "recovery.resume_s": Target("<= 3 s", lambda v, _: v <= 3),
    "memory.rss_mb_10k_games": Target("<= 250 MB", lambda v, _: v <= 250),
    "query.cli_s": Target("<= 0.5 s", lambda v, _: v <= 0.5),
    "query.api_p99_ms": Target("<= 20 ms", lambda v, _: v <= 20),
    "gateway.p50_ms": Target("<= 1.5x direct", lambda v, d: d is not None and v <= 1.5 * d),
    "gateway.p99_ms": Target("<= 50 ms", lambda v, _: v <= 50),
    "gateway.batches_per_partition_s": Target(
        "<= 1000/linger", lambda v, bound: bound is not None and v <= bound
    ),
}


@dataclass
class Figure:
    """One measurement over the repeats, with the limit it is compared to (if it has one)."""

    key: str
    values: list[float] = field(default_factory=list)
    limit_name: str = ""
    limits: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def limit(self) -> float | None:
        return statistics.median(self.limits) if self.limits else None

    def met(self) -> bool | None:
        target = TARGETS.get(self.key)
        return None if target is None or not self.values else target.met(self.median, self.limit)


class Results:
    """Figures by key, filled repeat by repeat; latency samples kept for the plots."""

    def __init__(self) -> None:
        self.figures = {key: Figure(key) for key in KEYS}
        self.samples_ms: dict[str, list[float]] = {
            "idle": [],
            "loaded": [],
            "raw": [],
            "raw loaded": [],
            "dead letter loaded": [],
        }

    def add(self, key: str, value: float, limit: float | None = None, limit_name: str = "") -> None:
        figure = self.figures[key]
        figure.values.append(value)
        if limit is not None:
            figure.limits.append(limit)
            figure.limit_name = limit_name

    def as_json(self) -> dict[str, float | None]:
        """The report's keys (flat, dotted) to medians; None for a figure not measured."""
        return {key: round(f.median, 4) if f.values else None for key, f in self.figures.items()}

    def table(self) -> str:
        """Median (min-max) beside the limit's median, the target and whether it is met."""
        lines = [f"{'measurement':<40} {'median (min-max)':<28} {'limit':<36} {'target':<16} met"]
        for key, f in self.figures.items():
            if not f.values:
                continue
            spread = f"{_num(f.median)} ({_num(min(f.values))}-{_num(max(f.values))})"
            limit = f"{_num(f.limit)} {f.limit_name}" if f.limit is not None else "-"
            target = TARGETS[key].text if key in TARGETS else "-"
            met = {True: "yes", False: "NO", None: ""}[f.met()]
            lines.append(f"{key:<40} {spread:<28} {limit:<36} {target:<16} {met}")
        return "\n".join(lines)


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation."""
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"
