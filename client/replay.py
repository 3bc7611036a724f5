"""The replay screen: a game's states from the log, shown one after another at the pace they were played.

The board is the client's own (client/view.py), watched rather than played. The pace
comes from the records' timestamps, kept between `MIN_PAUSE_S` and `MAX_PAUSE_S` (a
player idle for minutes should not stall the replay, and moves written in one burst
should still be seen one by one at x1), then divided by `speed`.
"""

import asyncio
from dataclasses import dataclass

from prompt_toolkit.application import Application
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.layout import Window
from prompt_toolkit.layout.controls import FormattedTextControl
from prompt_toolkit.output import Output

from client.app import screen
from client.view import Fragments, View, board_fragments, winner_words
from domain.models import GameState
from domain.phrases import outcome_words
from infra.replay import Replay

MIN_PAUSE_S, MAX_PAUSE_S = 0.1, 2.0
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 64.0, 256.0, 1000.0)


@dataclass
class Cursor:
    """Where the replay stands: the version shown, whether it plays, how fast."""

    replay: Replay
    speed: float
    version: int = 0
    paused: bool = False

    def pause_s(self) -> float:
        """How long the current version stays on screen before the next one."""
        steps = self.replay.steps
        if self.version == 0 or self.version >= len(steps):
            return MIN_PAUSE_S / self.speed
        gap = (steps[self.version].timestamp_ms - steps[self.version - 1].timestamp_ms) / 1000
        return min(MAX_PAUSE_S, max(MIN_PAUSE_S, gap)) / self.speed

    def step(self, by: int) -> None:
        self.version = min(self.replay.latest, max(0, self.version + by))

    def faster(self, up: bool) -> None:
        slower = [s for s in SPEEDS if s < self.speed]
        quicker = [s for s in SPEEDS if s > self.speed]
        if up and quicker:
            self.speed = quicker[0]
        elif not up and slower:
            self.speed = slower[-1]

    @property
    def over(self) -> bool:
        return self.version >= self.replay.latest


def last_words(state: GameState) -> str:
    """`A1: moved left`, or what time did to the game (a clock record's state has no player)."""
    last = state.last
    if last is None:
        return "the new game, before its first action"
    if last.type == "tick":
        return (
            "time: the game is abandoned" if state.status == "abandoned" else "time: a seat is free"
        )
    if last.type == "leave" and last.accepted:
        return f"{last.player}: left"
    return f"{last.player}: {outcome_words(last)}"


def screen_board(cursor: Cursor) -> Fragments:
    """The client's board of the version shown, under a replay header."""
    replay = cursor.replay
    view = View(game_id=replay.game_id, player=None, state=replay.state(cursor.version))
    title = f"*** Game {replay.game_id}, replay from the actions log ***\n"
    return [("class:header", title), *board_fragments(view)[1:]]


def screen_status(cursor: Cursor) -> Fragments:
    replay, state = cursor.replay, cursor.replay.state(cursor.version)
    lines: Fragments = [
        (
            "class:status",
            f"Version {cursor.version} of {replay.latest}   Team A: {state.live_players('A')} "
            f"alive   Team B: {state.live_players('B')} alive",
        )
    ]
    rejected = state.last is not None and not state.last.accepted
    lines.append(("class:status.rejected" if rejected else "class:status", last_words(state)))
    if state.status != "running":
        lines.append(("class:status.over", f"GAME OVER: {winner_words(state)}"))
    playing = "paused" if cursor.paused else ("the end" if cursor.over else "playing")
    lines.append(("class:status", f"Speed x{cursor.speed:g}, {playing}"))
    lines.append(("class:help", "space pauses   left/right step   +/- speed   q quits"))
    return [(style, text + "\n") for style, text in lines]


def build_replay_app(
    cursor: Cursor, *, input: Input | None = None, output: Output | None = None
) -> Application[None]:
    """Board over status, and the keys of a replay."""
    bindings = KeyBindings()

    @bindings.add("q")
    @bindings.add("c-c")
    def _quit(event: KeyPressEvent) -> None:
        """Stop the replay."""
        event.app.exit()

    @bindings.add("space")
    def _pause(event: KeyPressEvent) -> None:
        """Pause, or play on (from the start again once at the end)."""
        if cursor.over and cursor.paused is False:
            cursor.version = 0
        else:
            cursor.paused = not cursor.paused

    @bindings.add("right")
    @bindings.add("left")
    def _step(event: KeyPressEvent) -> None:
        """One version forward or back; pauses."""
        cursor.paused = True
        cursor.step(1 if event.key_sequence[0].key == "right" else -1)

    @bindings.add("+")
    @bindings.add("-")
    def _speed(event: KeyPressEvent) -> None:
        """The next speed of SPEEDS up, or down."""
        cursor.faster(event.key_sequence[0].key == "+")

    board = Window(FormattedTextControl(lambda: screen_board(cursor)), height=12)
    status = Window(FormattedTextControl(lambda: screen_status(cursor)))
    return screen(board, status, bindings, input=input, output=output)


async def watch_replay(
    cursor: Cursor, *, input: Input | None = None, output: Output | None = None
) -> None:
    """Show the cursor's replay from where it stands to its end, then wait for q."""
    app = build_replay_app(cursor, input=input, output=output)

    async def advance() -> None:
        while True:
            await asyncio.sleep(cursor.pause_s())
            if not cursor.paused and not cursor.over:
                cursor.step(1)
                app.invalidate()

    ticker = asyncio.ensure_future(advance())
    try:
        await app.run_async()
    finally:
        ticker.cancel()
