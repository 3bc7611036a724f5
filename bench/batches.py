"""Record batches as the broker stores them: how many per partition, and when each was written.

Client libraries hide batch boundaries, yet batches are what the embedded broker pays
for (Tansu lists every stored batch of a partition on each fetch). So this speaks the
Kafka protocol's Fetch (version 4) on a plain socket and walks the batch headers of the
raw `records` bytes; nothing is decoded beyond them.
"""

import socket
import struct
from dataclasses import dataclass

FETCH, FETCH_VERSION = 1, 4
BATCH_HEAD = struct.Struct(">qiibihiqq")  # offset, length, epoch, magic, crc, attrs, delta, t0, t1
LOG_OVERHEAD = 12  # base offset and batch length, not counted in the length


@dataclass(frozen=True)
class Batch:
    """One stored record batch: its first offset, how many records, its newest timestamp (ms)."""

    base_offset: int
    records: int
    max_timestamp_ms: int


def read_batches(
    bootstrap: str, topic: str, partition: int, timeout_s: float = 10.0
) -> list[Batch]:
    """Every batch of `topic`'s `partition`, from offset 0 to the end, in log order."""
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    batches: list[Batch] = []
    with socket.create_connection((host, int(port)), timeout=timeout_s) as conn:
        offset, correlation = 0, 0
        while True:
            correlation += 1
            conn.sendall(_fetch_request(correlation, topic, partition, offset))
            records, high_watermark = _fetch_response(_read_frame(conn), correlation)
            new = list(_walk(records))
            batches += [b for b in new if b.base_offset >= offset]
            if batches:
                last = batches[-1]
                offset = max(offset, last.base_offset + last.records)
            if offset >= high_watermark or not new:
                return batches


def per_second(batches: list[Batch], start_ms: int, end_ms: int) -> float:
    """Batches written between `start_ms` and `end_ms` (broker or producer clock), per second."""
    inside = sum(1 for b in batches if start_ms <= b.max_timestamp_ms <= end_ms)
    return inside / max((end_ms - start_ms) / 1000, 1e-3)


def _fetch_request(correlation: int, topic: str, partition: int, offset: int) -> bytes:
    client = b"moba-bench"
    name = topic.encode()
    body = struct.pack(
        ">iiiib", -1, 100, 1, 16 << 20, 0
    )  # replica, wait, min, max bytes, isolation
    body += struct.pack(">ih", 1, len(name)) + name
    body += struct.pack(">iiqi", 1, partition, offset, 16 << 20)
    head = struct.pack(">hhih", FETCH, FETCH_VERSION, correlation, len(client)) + client
    message = head + body
    return struct.pack(">i", len(message)) + message


def _read_frame(conn: socket.socket) -> bytes:
    size = struct.unpack(">i", _read_exactly(conn, 4))[0]
    return _read_exactly(conn, size)


def _read_exactly(conn: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = conn.recv(min(left, 1 << 20))
        if not chunk:
            raise ConnectionError("the broker closed the connection mid-answer")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _fetch_response(frame: bytes, correlation: int) -> tuple[bytes, int]:
    """(records, high watermark) of the one partition asked for."""
    got, _throttle, topics = struct.unpack_from(">iii", frame, 0)
    if got != correlation or topics != 1:
        raise ConnectionError(f"unexpected Fetch answer (correlation {got}, {topics} topics)")
    at = 12
    name_len = struct.unpack_from(">h", frame, at)[0]
    at += 2 + name_len
    _parts, _partition, error, high_watermark, _stable = struct.unpack_from(">iihqq", frame, at)
    if error:
        raise ConnectionError(f"Fetch error code {error}")
    at += 4 + 4 + 2 + 8 + 8
    aborted = struct.unpack_from(">i", frame, at)[0]
    at += 4 + max(aborted, 0) * 16
    size = struct.unpack_from(">i", frame, at)[0]
    at += 4
    return (frame[at : at + size] if size > 0 else b""), high_watermark


def _walk(records: bytes):  # -> Iterator[Batch]
    at = 0
    while at + BATCH_HEAD.size <= len(records):
        base, length, _epoch, _magic, _crc, _attrs, delta, _t0, t1 = BATCH_HEAD.unpack_from(
            records, at
        )
        if at + LOG_OVERHEAD + length > len(records):
            return  # a batch cut off at the answer's size limit: the next fetch starts at it
        yield Batch(base, delta + 1, t1)
        at += LOG_OVERHEAD + length
