"""`moba dlq`: the dead letters on `actions.dlq`, each with why and where from.

A dead letter is an `actions` message the dataflow could not apply: its original bytes,
untouched, with the reason, a detail and the source (topic/partition/offset) in headers
(dataflows/records.py names them). Reading uses no consumer group: nothing is committed,
and two people may read at once.
"""

import json
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

QUIET_S = 30.0  # without -f, give up when the broker stops answering for this long
PREVIEW = 80  # characters of a letter's bytes shown in the terminal (all of them in --json)


def dlq(
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new dead letters until Ctrl-C.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per line, the bytes whole.")
    ] = False,
) -> None:
    """Every dead letter so far (-f: and each new one): time, source, reason, detail, bytes."""
    from confluent_kafka import Consumer, TopicPartition

    from cli.topics import reachable_settings
    from infra.kafka import consumer_config

    settings = reachable_settings()
    topic = settings.dlq_topic
    consumer = Consumer(consumer_config(settings))
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        if metadata.error is not None:
            typer.echo(f"no topic {topic!r}: create it with `moba topics create`", err=True)
            raise typer.Exit(1)
        partitions = sorted(metadata.partitions)
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in partitions
        }
        assigned = [TopicPartition(topic, p, 0) for p in partitions]
        consumer.assign(assigned)
        shown, heard_at = 0, time.monotonic()
        while True:
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is None:
                heard_at = time.monotonic()
                letter = _letter(msg)
                typer.echo(json.dumps(letter) if as_json else _line(letter))
                shown += 1
                continue
            if follow:
                continue
            # nothing more buffered: done once every partition is read past its end (a
            # position, not a message's offset: a log may end with records no one sees)
            positions = consumer.position(assigned)  # an empty partition has none (negative)
            if all(tp.offset >= ends[tp.partition] for tp in positions if ends[tp.partition]):
                break
            if time.monotonic() - heard_at > QUIET_S:
                typer.echo(f"stopped: nothing read from {topic} for {QUIET_S:.0f} s", err=True)
                raise typer.Exit(1)
    finally:
        consumer.close()
    if not as_json and not follow:
        typer.echo(f"{shown} dead letter(s) on {topic}" if shown else f"no dead letters on {topic}")


def _letter(msg: Any) -> dict[str, Any]:
    from dataflows.records import DETAIL_HEADER, REASON_HEADER, SOURCE_HEADER, TRUNCATED_HEADER

    headers = {k: v.decode(errors="replace") for k, v in msg.headers() or []}
    value = msg.value()
    return {
        "time": datetime.fromtimestamp(msg.timestamp()[1] / 1000, UTC).isoformat(),
        "partition": msg.partition(),
        "offset": msg.offset(),
        "reason": headers.get(REASON_HEADER),
        "detail": headers.get(DETAIL_HEADER),
        "source": headers.get(SOURCE_HEADER),
        "truncated": headers.get(TRUNCATED_HEADER),
        "value": None if value is None else value.decode(errors="replace"),
    }


def _line(letter: dict[str, Any]) -> str:
    value = letter["value"]
    preview = (
        "(no value)"
        if value is None
        else repr(value[:PREVIEW]) + ("..." if len(value) > PREVIEW else "")
    )
    source = letter["source"] or "(the consumer itself)"
    return f"{letter['time'][:19]}  {source}  {letter['reason']}: {letter['detail']}  {preview}"
