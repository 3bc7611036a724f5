"""Scripted players: read states, ask the strategy, send intents at a fixed total rate.

The shell around `strategy.choose`: one consumer thread feeds a queue, the calling
thread keeps the latest state per game, picks the next bot round-robin and sends.
They double as a load generator (many games, high rates) and report what they saw.
"""

import logging
import queue
import random
import secrets
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from client.events import Link, Undelivered
from client.strategy import choose
from client.transport import Event, Transport, TransportError
from domain.models import Action, GameState, Join, Move, Throw

log = logging.getLogger("moba.bots")

Seat = tuple[int, str]  # (game id, player)


@dataclass
class Tally:
    """What the bots did and saw; latencies are from send to the state answering it, in ms."""

    sent: int = 0
    answered: int = 0
    rejected: int = 0
    undelivered: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    link: Link | None = None
    finished: set[int] = field(default_factory=set)
    elapsed_s: float = 0.0

    def line(self, elapsed_s: float | None = None) -> str:
        """One line for a terminal: counts, rate and latency percentiles."""
        figures = self.summary(elapsed_s)
        text = (
            f"sent {self.sent} ({figures['rate_per_s']:.1f}/s), answered {self.answered}, "
            f"rejected {self.rejected}, undelivered {self.undelivered}, "
            f"games over {len(self.finished)}"
        )
        if figures["latency_p50_ms"] is not None:
            text += f", latency p50 {figures['latency_p50_ms']:.0f} ms"
            text += f" p99 {figures['latency_p99_ms']:.0f} ms"
        if self.link is not None and not self.link.up:
            text += f", broker {self.link.detail}"
        return text

    def summary(self, elapsed_s: float | None = None) -> dict[str, float | int | None]:
        """The figures of `line` as plain values, for programs (`moba bots --json`)."""
        elapsed_s = self.elapsed_s if elapsed_s is None else elapsed_s
        cuts = (
            statistics.quantiles(self.latencies_ms, n=100) if len(self.latencies_ms) >= 2 else None
        )
        return {
            "sent": self.sent,
            "answered": self.answered,
            "rejected": self.rejected,
            "undelivered": self.undelivered,
            "games_over": len(self.finished),
            "elapsed_s": round(elapsed_s, 3),
            "rate_per_s": self.sent / elapsed_s if elapsed_s > 0 else 0.0,
            "latency_p50_ms": None if cuts is None else round(cuts[49], 1),
            "latency_p99_ms": None if cuts is None else round(cuts[98], 1),
        }


def run_bots(
    transport: Transport,
    seats: Sequence[Seat],
    *,
    rate: float,
    stop: threading.Event,
    seed: int = 0,
    duration_s: float | None = None,
    tokens: Mapping[Seat, str] | None = None,
    report: Callable[[Tally, float], None] | None = None,
    report_every_s: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
) -> Tally:
    """Play `seats` at `rate` intents/s in total until `stop`, the duration, or every game ends.

    A state's latency is from its intent's send to the moment the consumer thread
    received it (as the client measures), not to when the rate limiter next wakes.
    """
    if not seats:
        raise ValueError("no seats to play: name at least one game and one player")
    tokens = tokens or {}
    events: queue.Queue[tuple[float, Event]] = queue.Queue()
    done = threading.Event()

    def arrived(event: Event) -> None:
        events.put((clock(), event))

    consumer = threading.Thread(
        target=transport.receive, args=(done, arrived), name="moba-bots-consumer", daemon=True
    )
    consumer.start()
    rngs = {seat: random.Random(f"{seed}/{seat[0]}/{seat[1]}") for seat in seats}
    sessions = {seat: secrets.token_hex(16) for seat in seats}  # each bot holds its seat
    states: dict[int, GameState] = {}
    sent_at: dict[str, float] = {}
    tally = Tally()
    prefix = uuid.uuid4().hex[:8]
    games = sorted({g for g, _ in seats})
    start = next_tick = last_join = clock()
    next_report = start + report_every_s
    deadline = start + duration_s if duration_s is not None else None
    turn = 0

    def send(action: Action) -> None:
        sent_at[action.action_id] = clock()
        try:
            transport.send(action)
            tally.sent += 1
        except TransportError as err:
            log.warning("not sent: %s", err)
            tally.undelivered += 1

    def join_missing() -> None:
        for g in games:
            if g not in states:
                player = next(p for game, p in seats if game == g)
                action_id = f"bot-{prefix}-join-{g}-{tally.sent}"
                send(
                    Join(
                        game_id=g,
                        player=player,
                        action_id=action_id,
                        token=tokens.get((g, player)),
                        session=sessions[(g, player)],
                    )
                )

    join_missing()
    try:
        while not stop.is_set() and (deadline is None or clock() < deadline):
            _drain(events, states, sent_at, tally)
            if games and all(g in tally.finished for g in games):
                break
            if clock() - last_join > 3.0:
                join_missing()
                last_join = clock()
            for _ in range(len(seats)):  # the next seat that can act, round-robin
                game_id, player = seats[turn % len(seats)]
                turn += 1
                state = states.get(game_id)
                intent = choose(state, player, rngs[(game_id, player)]) if state else None
                if intent is not None:
                    kind, direction = intent
                    cls = Move if kind == "move" else Throw
                    send(
                        cls(
                            game_id=game_id,
                            player=player,
                            action_id=f"bot-{prefix}-{turn}",
                            token=tokens.get((game_id, player)),
                            session=sessions[(game_id, player)],
                            direction=direction,
                        )
                    )
                    break
            if report is not None and clock() >= next_report:
                report(tally, clock() - start)
                next_report += report_every_s
            next_tick += 1.0 / rate
            stop.wait(max(0.0, next_tick - clock()))  # the rate limiter's tick, not a test wait
    finally:
        tally.elapsed_s = clock() - start
        done.set()
        consumer.join(5)
    return tally


def _drain(
    events: "queue.Queue[tuple[float, Event]]",
    states: dict[int, GameState],
    sent_at: dict[str, float],
    tally: Tally,
) -> None:
    """Fold everything the consumer thread delivered into the latest states and the tally."""
    while True:
        try:
            received_at, event = events.get_nowait()
        except queue.Empty:
            return
        if isinstance(event, Link):
            tally.link = event
        elif isinstance(event, Undelivered):
            tally.undelivered += 1
            sent_at.pop(event.action_id, None)
        else:
            seen = states.get(event.game_id)
            if seen is not None and event.version <= seen.version:
                continue
            states[event.game_id] = event
            if event.status != "running":  # finished or abandoned
                tally.finished.add(event.game_id)
            last = event.last
            if last is not None and last.action_id in sent_at:
                tally.answered += 1
                tally.rejected += not last.accepted
                tally.latencies_ms.append((received_at - sent_at.pop(last.action_id)) * 1000)
