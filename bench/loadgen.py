"""Background load for the latency benchmark: real actions at a fixed rate, until terminated.

`python -m bench.loadgen --rate 2000 --games 200` with the MOBA_* settings in the
environment; games 1..N (game 0 is the measured player's).
"""

import argparse
import signal
import time

from confluent_kafka import Producer

from bench.workload import key_presses, records
from infra.kafka import producer_config
from infra.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, required=True, help="Actions per second.")
    parser.add_argument("--games", type=int, default=200)
    args = parser.parse_args()
    settings = Settings()
    workload = records(key_presses(range(1, args.games + 1), 200_000, seed=7), settings.partitions)
    producer = Producer(producer_config(settings))
    running = True

    def stop(*_: object) -> None:
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    start = time.monotonic()
    sent = 0
    while (
        running
    ):  # every 10 ms, produce the actions due by then: the rate holds without a call each
        due = int((time.monotonic() - start) * args.rate)
        while sent < due:
            partition, key, value = workload[sent % len(workload)]
            producer.produce(settings.actions_topic, value, key, partition=partition)
            sent += 1
        producer.poll(0)
        time.sleep(0.01)
    producer.flush(10)


if __name__ == "__main__":
    main()
