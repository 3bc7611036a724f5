"""The embedded broker candidates side by side: the same measurements on each, in one run.

    python -m bench.brokers                      # every candidate, 10-minute service-life cap
    python -m bench.brokers --kinds noida --minutes 2 --skip tests,soak

For each broker: start-up time; what survives a clean stop and a kill -9 (acknowledged
messages counted after a restart on the same data dir); RSS, idle CPU and a one-hop
round trip after 1M messages; the project's integration tests and a crash soak run
against it (MOBA_EMBEDDED_BROKER); and the service life of `moba up` under load
(bench/service_life.py). Every figure carries the 1-minute load average: the machine
may be shared, and a busy one makes every broker look slower. Figures: docs/brokers.md.
"""

import argparse
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, get_args

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from bench.latency import raw_round_trip
from bench.report import percentile
from bench.service_life import process_cpu_s, service_life
from bench.workload import Counter, fresh_settings, key_presses, records, rss_bytes
from dataflows import launch
from infra.broker import EmbeddedBroker, free_port
from infra.kafka import consumer_config, produce_patiently, producer_config
from infra.settings import EmbeddedKind, Settings

Say = Callable[[str], None]
KINDS: tuple[EmbeddedKind, ...] = get_args(EmbeddedKind)
SECTIONS = ("startup", "survival", "million", "tests", "soak", "life")

# the integration tests that exercise the broker hardest: the pipeline end to end,
# recovery after kills, poison messages, offset gaps, the broker's own life cycle
INTEGRATION_TESTS = [
    "tests/test_pipeline.py",
    "tests/test_recovery.py",
    "tests/test_poison.py",
    "tests/test_offset_gaps.py",
    "tests/test_embedded_broker.py",
]
SOAK = ["--games", "40", "--actions", "4000", "--kills", "6", "--workers", "2"]


def load() -> float:
    """The 1-minute load average, recorded beside every figure."""
    return round(os.getloadavg()[0], 2)


def startup_s(kind: EmbeddedKind, root: Path, starts: int = 5) -> dict[str, Any]:
    """Seconds from spawning the broker to its first metadata answer, median of `starts`."""
    times = []
    for i in range(starts):
        broker = EmbeddedBroker(port=free_port(), kind=kind, data_dir=root / f"start-{i}")
        begun = time.perf_counter()
        with broker.start():
            times.append(time.perf_counter() - begun)
    return {"median_s": statistics.median(times), "max_s": max(times), "load": load()}


def _acked(settings: Settings, count: int, batch: int = 5) -> int:
    """Produce `count` real actions, acks=all and idempotent, in batches of at most `batch`.

    Small batches, as players' clients send them: a broker's cost can grow with the
    number of batches it stores, not only with the number of messages.
    """
    workload = records(key_presses(range(1, 101), 50_000, seed=3), settings.partitions)
    producer = Producer(producer_config(settings, **{"linger.ms": 5, "batch.num.messages": batch}))
    for partition, key, value in itertools.islice(itertools.cycle(workload), count):
        produce_patiently(producer, settings.actions_topic, value, key, partition)
    if producer.flush(300) != 0:
        raise RuntimeError("not every message was acknowledged")
    return count


def _readable(settings: Settings, expected: int, quiet_s: float = 20.0) -> int:
    """Messages readable on `actions` from offset 0: until `expected`, or nothing new for `quiet_s`.

    The quiet time is long: a broker that answers a fetch with more than the client
    accepts (noida, past 100 MB) makes it reconnect and retry for seconds.
    """
    with Counter(settings, settings.actions_topic) as counter:
        last_new = time.monotonic()
        while len(counter.timestamps_ms) < expected and time.monotonic() - last_new < quiet_s:
            if counter.poll(0.1):
                last_new = time.monotonic()
        return len(counter.timestamps_ms)


def survival(kind: EmbeddedKind, root: Path, count: int = 20_000) -> dict[str, Any]:
    """Acked messages left after a restart: clean stop, kill -9 at once or later, kill -9 mid-stream."""
    results: dict[str, Any] = {"acked": count, "load": load()}
    for how in (
        "clean stop",
        "kill -9 at once",
        "kill -9 after 1 s idle",
        "kill -9 after 3 s idle",
    ):
        port, data = free_port(), root / how.replace(" ", "-")
        with EmbeddedBroker(port=port, kind=kind, data_dir=data) as broker:
            settings = fresh_settings(broker.bootstrap_servers, root / "settings")
            _acked(settings, count)
            if how.startswith("kill"):
                if how.endswith("idle"):  # what an idle broker writes out on its own, in time
                    time.sleep(float(how.split()[3]))
                broker.kill()
        with EmbeddedBroker(port=port, kind=kind, data_dir=data):
            results[how] = _readable(settings, count)
    with EmbeddedBroker(port=free_port(), kind=kind, data_dir=root / "steady") as broker:
        settings = fresh_settings(broker.bootstrap_servers, root / "settings")
        results["kill -9 while writing 2000/s"] = crash_while_writing(broker, settings)
    return results


def _held(settings: Settings) -> int:
    """Messages the broker says `actions` holds (high minus low watermark, every partition)."""
    consumer = Consumer(consumer_config(settings))
    try:
        marks = [
            consumer.get_watermark_offsets(TopicPartition(settings.actions_topic, p), timeout=30)
            for p in range(settings.partitions)
        ]
    except KafkaException:  # the topic itself is gone
        return 0
    finally:
        consumer.close()
    return sum(high - low for low, high in marks)


def crash_while_writing(
    broker: EmbeddedBroker, settings: Settings, rate: float = 2000, seconds: float = 20
) -> dict[str, Any]:
    """Write steadily, kill -9 the broker mid-stream, start it again: acked, and how many it holds.

    Counted by watermarks, not by reading: reading a large log back is measured apart.
    """
    before = _held(settings)
    acked = 0

    def delivered(err: object, msg: object) -> None:
        nonlocal acked
        acked += err is None

    producer = Producer(producer_config(settings, **{"message.timeout.ms": 3000}))
    needed = int(rate * seconds) + 1000
    workload = records(key_presses(range(1, 101), needed, seed=5), settings.partitions)
    begun, sent = time.monotonic(), 0
    while time.monotonic() - begun < seconds:  # the loadgen's pacing: what is due every 10 ms
        for partition, key, value in workload[sent : int((time.monotonic() - begun) * rate)]:
            producer.produce(settings.actions_topic, value, key, partition, on_delivery=delivered)
            sent += 1
        producer.poll(0)
        time.sleep(0.01)
    producer.poll(0.2)
    acked_at_kill = acked
    broker.kill()
    producer.flush(5)  # what was in flight fails now; it was never acknowledged
    broker.start()
    held = _held(settings) - before
    return {"acked": acked_at_kill, "held": held, "lost": max(acked_at_kill - held, 0)}


def million(kind: EmbeddedKind, root: Path, count: int = 1_000_000) -> dict[str, Any]:
    """Produce `count` actions, then the broker's RSS, idle CPU, a one-hop round trip, a restart."""
    port, data = free_port(), root / "million"
    result: dict[str, Any] = {"messages": count}
    with EmbeddedBroker(port=port, kind=kind, data_dir=data) as broker:
        assert broker.process is not None
        pid = broker.process.pid
        settings = fresh_settings(broker.bootstrap_servers, root / "settings")
        begun = time.perf_counter()
        _acked(settings, count)
        result["produce_per_s"] = count / (time.perf_counter() - begun)
        result["load_after_produce"] = load()
        time.sleep(10.0)  # let it settle: idle means after whatever it does once writes stop
        cpu, wall = process_cpu_s(pid), time.perf_counter()
        time.sleep(10.0)  # the idle window itself
        result["idle_cpu_cores"] = (process_cpu_s(pid) - cpu) / (time.perf_counter() - wall)
        result["rss_mb"] = rss_bytes(pid) / 2**20
        # on partition 0 of the loaded topic itself: a broker that lists every stored batch
        # on each fetch slows with what the partition holds
        try:
            trips = raw_round_trip(
                settings.model_copy(update={"dlq_topic": settings.actions_topic}), 200
            )
            result["round_trip_p50_ms"] = percentile(trips, 50)
            result["round_trip_p99_ms"] = percentile(trips, 99)
        except TimeoutError:  # the figure itself: the partition no longer answers in time
            result["round_trip_p50_ms"] = "no answer within 10 s"
            trips = []
        result["written"] = count + len(trips)
        result["load_idle"] = load()
        begun = time.perf_counter()
        broker.stop()
        result["clean_stop_s"] = time.perf_counter() - begun
    begun = time.perf_counter()
    with EmbeddedBroker(port=port, kind=kind, data_dir=data, log_path=root / "m.log") as broker:
        result["restart_s"] = time.perf_counter() - begun
        begun = time.perf_counter()
        result["readable_after_clean_restart"] = _readable(settings, result["written"])
        result["read_back_s"] = time.perf_counter() - begun
        result["kill -9 while writing 2000/s"] = crash_while_writing(broker, settings, seconds=60)
    return result


def _run(argv: list[str], kind: EmbeddedKind, timeout_s: float) -> tuple[int, str, float]:
    """Run `argv` from the repository root with MOBA_EMBEDDED_BROKER=kind: code, output, seconds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOBA_")}
    env["MOBA_EMBEDDED_BROKER"] = kind
    begun = time.perf_counter()
    try:
        done = subprocess.run(
            argv, env=env, cwd=launch.REPO_ROOT, capture_output=True, text=True, timeout=timeout_s
        )
        return done.returncode, done.stdout + done.stderr, time.perf_counter() - begun
    except subprocess.TimeoutExpired as err:
        out = (err.stdout or b"").decode(errors="replace") if isinstance(err.stdout, bytes) else ""
        return -1, out + f"\ntimed out after {timeout_s:.0f} s", time.perf_counter() - begun


def tests(kind: EmbeddedKind) -> dict[str, Any]:
    """The integration tests above, on this broker: pytest's closing line and the failures."""
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *INTEGRATION_TESTS]
    code, out, took = _run(argv, kind, timeout_s=1800)
    closing = [line for line in out.splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
    failed = [line for line in out.splitlines() if line.startswith(("FAILED", "ERROR"))]
    return {
        "exit": code,
        "result": closing[-1].strip("= ") if closing else out[-300:],
        "failed": failed,
        "seconds": took,
        "load": load(),
    }


def soak(kind: EmbeddedKind) -> dict[str, Any]:
    """A crash soak (bench.soak: SIGKILLs of the dataflow, the fold as oracle) on this broker."""
    code, out, took = _run([sys.executable, "-m", "bench.soak", *SOAK], kind, timeout_s=1800)
    summary = [line for line in out.splitlines() if line.startswith("soak ")]
    return {
        "exit": code,
        "args": " ".join(SOAK),
        "result": summary[-1] if summary and code == 0 else out[-600:],
        "seconds": took,
        "load": load(),
    }


def calibration() -> str:
    """How fast this machine runs Python right now (`python -m timeit "sum((1,2,3))"`)."""
    done = subprocess.run(
        [sys.executable, "-m", "timeit", "sum((1,2,3))"], capture_output=True, text=True
    )
    return done.stdout.strip()


def measure(
    kind: EmbeddedKind,
    sections: list[str],
    minutes: float,
    rates: list[float],
    messages: int,
    say: Say,
) -> dict[str, Any]:
    """Every section asked for on broker `kind`; a section that fails is reported, not fatal."""
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix=f"moba-brokers-{kind}-") as tmp:
        root = Path(tmp)
        steps: dict[str, Callable[[], Any]] = {
            "startup": lambda: startup_s(kind, root / "startup"),
            "survival": lambda: survival(kind, root / "survival"),
            "million": lambda: million(kind, root / "million", messages),
            "tests": lambda: tests(kind),
            "soak": lambda: soak(kind),
            "life": lambda: [asdict(service_life(kind, rate, minutes, say=say)) for rate in rates],
        }
        for name in sections:
            say(f"{kind}: {name} (load {load()}) ...")
            begun = time.perf_counter()
            try:
                result[name] = steps[name]()
            except Exception as err:  # one broker failing a step is a finding, not the end
                result[name] = {"error": f"{type(err).__name__}: {err}"[:500]}
            say(
                f"{kind}: {name} done in {time.perf_counter() - begun:.0f} s: {json.dumps(result[name], default=str)[:600]}"
            )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.brokers", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated: tansu,noida")
    parser.add_argument(
        "--minutes", type=float, default=10.0, help="service-life cap per rate (30 for the full measurement)"
    )
    parser.add_argument("--rates", default="500,2000", help="service-life load, actions/s")
    parser.add_argument("--messages", type=int, default=1_000_000, help="for RSS and idle CPU")
    parser.add_argument("--skip", default="", help=f"sections to leave out: {','.join(SECTIONS)}")
    parser.add_argument("--out", type=Path, help="write every figure here as JSON")
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if unknown or skip - set(SECTIONS):
        parser.error(f"unknown broker {unknown} or section {sorted(skip - set(SECTIONS))}")
    sections = [s for s in SECTIONS if s not in skip]
    rates = [float(r) for r in args.rates.split(",")]
    say: Say = lambda line: print(line, flush=True)  # noqa: E731
    report: dict[str, Any] = {
        "calibration": calibration(),
        "cpus": os.cpu_count(),
        "load_at_start": load(),
        "minutes_cap": args.minutes,
        "brokers": {},
    }
    say(f"calibration: {report['calibration']}; load {report['load_at_start']}")
    for kind in kinds:
        report["brokers"][kind] = measure(kind, sections, args.minutes, rates, args.messages, say)  # type: ignore[arg-type]
    report["calibration_after"] = calibration()
    say(f"calibration after: {report['calibration_after']}; load {load()}")
    text = json.dumps(report, indent=2, default=str)
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
