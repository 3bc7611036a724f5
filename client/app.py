"""The full-screen client: the talk's goroutines as asyncio tasks and a thread, talking by queues.

    keys ──> outbox ──> producer task ──> transport.send (in a worker thread)
    transport.receive (consumer thread) ──> inbox ──> state task ──> View ──> app.invalidate()

Only the event loop's thread changes the `View`; the consumer thread touches nothing
but `loop.call_soon_threadsafe`. prompt_toolkit redraws from the current `View`.
"""

import asyncio
import contextlib
import logging
import secrets
import signal
import threading
import time
import uuid
from collections.abc import Callable

from prompt_toolkit.application import Application
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.layout import HSplit, Layout, Window
from prompt_toolkit.layout.controls import FormattedTextControl
from prompt_toolkit.output import Output
from prompt_toolkit.styles import Style

from client import keymap
from client.events import Link, Undelivered
from client.transport import Event, Transport, TransportError
from client.view import (
    View,
    absorb,
    board_fragments,
    idle_reason,
    linked,
    noted,
    seat_of_another,
    sent,
    status_lines,
    undelivered,
    wants_rematch,
)
from domain.models import Action, GameState, Join, Leave
from domain.seats import holder_of

log = logging.getLogger("moba.client")

STYLE = Style.from_dict(
    {
        "header": "bold",
        "axis": "#888888",
        "wall": "#888888",
        "team-a": "#5f87ff",
        "team-b": "#ff8700",
        "me": "reverse bold #5fff5f",
        "status": "",
        "status.rejected": "bold #ff5f5f",
        "status.over": "bold #ffff5f",
        "status.down": "reverse #ff5f5f",
        "status.note": "italic #ffff5f",
        "help": "#888888",
    }
)

JOIN_RETRY_S = 3.0  # re-send `join` this often until the first state arrives


class Cell:
    """The client's one mutable cell: the current `View`, changed only on the loop's thread."""

    def __init__(
        self,
        game_id: int,
        player: str | None,
        token: str | None = None,
        session: str | None = None,
    ) -> None:
        self.session = session or new_session()
        self.view = View(game_id=game_id, player=player, holder=holder_of(self.session))
        self.token = token
        self._prefix = f"{player or 'watch'}-{uuid.uuid4().hex[:8]}"
        self._count = 0

    def next_action_id(self) -> str:
        """A unique id per action, so the state that answers it can be recognised."""
        self._count += 1
        return f"{self._prefix}-{self._count}"

    def join(self) -> Join:
        v = self.view
        assert v.player is not None, "a spectator sends nothing"
        return Join(**self._seat(v.player), action_id=self.next_action_id())

    def leave(self) -> Leave | None:
        """The `leave` that frees our seat on the way out, or None when there is none to free.

        A finished game keeps its seats as they were (its rematch's players), and a seat
        the state shows held by another session is not ours to free.
        """
        v = self.view
        if v.player is None or seat_of_another(v):
            return None
        if v.state is not None and v.state.status != "running":
            return None
        return Leave(**self._seat(v.player), action_id=self.next_action_id())

    def _seat(self, player: str) -> dict[str, object]:
        v = self.view
        return {
            "game_id": v.game_id,
            "player": player,
            "token": self.token,
            "session": self.session,
        }


def new_session() -> str:
    """A session key: one per run of the client, sent with every action (docs/domain.md)."""
    return secrets.token_hex(16)


def build_app(
    cell: Cell,
    on_key: Callable[[str], None],
    on_rematch: Callable[[], None] = lambda: None,
    *,
    input: Input | None = None,
    output: Output | None = None,
) -> Application[None]:
    """The layout (board over status) and the key bindings; `on_key` gets each action key's name."""
    board = Window(FormattedTextControl(lambda: board_fragments(cell.view)), height=12)
    status = Window(FormattedTextControl(lambda: _lines(status_lines(cell.view))))
    bindings = KeyBindings()

    for key in keymap.action_keys():

        @bindings.add(key)
        def _act(event: KeyPressEvent) -> None:
            """Send the intent of this key (arrows move, W/A/S/D throw)."""
            on_key(event.key_sequence[0].key)

    def _quit(event: KeyPressEvent) -> None:
        """Quit cleanly."""
        event.app.exit()

    for key in keymap.QUIT_KEYS:
        bindings.add(key)(_quit)

    @bindings.add(keymap.INTERRUPT_KEY)
    def _interrupt(event: KeyPressEvent) -> None:
        """Quit cleanly as q does; the command then exits 130, as after any Ctrl-C."""
        event.app.exit(exception=KeyboardInterrupt())

    @bindings.add(keymap.REMATCH_KEY)
    def _rematch(event: KeyPressEvent) -> None:
        """After GAME OVER: go to the rematch the finished state names."""
        on_rematch()

    return screen(board, status, bindings, input=input, output=output)


def screen(
    board: Window,
    status: Window,
    bindings: KeyBindings,
    *,
    input: Input | None = None,
    output: Output | None = None,
) -> Application[None]:
    """The client's full screen: the board, a rule, the status lines; the replay uses it too."""
    return Application(
        layout=Layout(HSplit([board, Window(height=1, char="-"), status])),
        key_bindings=bindings,
        style=STYLE,
        full_screen=True,
        input=input,
        output=output,
    )


async def play(
    transport: Transport,
    game_id: int,
    player: str | None,
    *,
    token: str | None = None,
    session: str | None = None,
    known: GameState | None = None,
    input: Input | None = None,
    output: Output | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> View:
    """Run the client until the player quits or picks the rematch (`next_game` of the `View`).

    Every action carries `session` (a new one when None: keep it for the rematch). With
    `player` None it watches: it shows the game's states and sends nothing at all. On
    `q` a player who may hold a seat of a running game leaves it. `known` is a state
    read elsewhere (the query store) to show until the log's newer ones arrive: a quiet
    game's last state may be far back in its partition.
    """
    loop = asyncio.get_running_loop()
    cell = Cell(game_id, player, token, session)
    outbox: asyncio.Queue[Action] = asyncio.Queue()
    inbox: asyncio.Queue[Event] = asyncio.Queue()
    if known is not None:
        inbox.put_nowait(known)

    def press(key: str) -> None:
        _absorb_waiting(cell, inbox, clock)
        why = idle_reason(cell.view)
        if why is not None:
            cell.view = noted(cell.view, why)
            app.invalidate()
            return
        assert player is not None  # idle_reason stops a spectator's keys
        action = keymap.intent(key, game_id, player, cell.next_action_id(), token, cell.session)
        if action is not None:
            outbox.put_nowait(action)

    def rematch() -> None:
        _absorb_waiting(cell, inbox, clock)
        cell.view = wants_rematch(cell.view)
        if cell.view.next_game is not None:
            app.exit()
        else:
            app.invalidate()

    def deliver(event: Event) -> None:  # runs on the consumer thread
        with contextlib.suppress(RuntimeError):  # the loop closed while we were shutting down
            loop.call_soon_threadsafe(inbox.put_nowait, event)

    app = build_app(cell, press, rematch, input=input, output=output)
    stop = threading.Event()
    consumer = threading.Thread(
        target=_guarded(transport.receive), args=(stop, deliver), name="moba-consumer", daemon=True
    )
    consumer.start()
    tasks = [
        asyncio.create_task(_produce(cell, transport, outbox, clock)),
        asyncio.create_task(_apply(cell, inbox, app, clock)),
    ]
    if player is not None:
        tasks.append(asyncio.create_task(_join_until_seen(cell, outbox)))
    loop.set_exception_handler(_log_loop_error)
    signals = _quit_on_signals(loop, app)
    try:
        await app.run_async(set_exception_handler=False, handle_sigint=False)
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        leave = cell.leave() if cell.view.next_game is None else None
        if leave is not None:
            with contextlib.suppress(TransportError):  # the seat then idles out on the server
                await asyncio.to_thread(transport.send, leave)
        await asyncio.to_thread(consumer.join, 3.0)
    return cell.view


async def _produce(
    cell: Cell,
    transport: Transport,
    outbox: "asyncio.Queue[Action]",
    clock: Callable[[], float],
) -> None:
    """Producer task: stamp each intent's send time and hand it to Kafka in a worker thread."""
    while True:
        action = await outbox.get()
        cell.view = sent(cell.view, action.action_id, clock())
        try:
            await asyncio.to_thread(transport.send, action)
        except TransportError as err:
            cell.view = undelivered(cell.view, Undelivered(action.action_id, str(err)))
        except Exception:
            log.exception("producer task")


async def _apply(
    cell: Cell,
    inbox: "asyncio.Queue[Event]",
    app: Application[None],
    clock: Callable[[], float],
) -> None:
    """State task: fold every event into the View, then ask for one redraw per batch."""
    while True:
        first = await inbox.get()
        _absorb_waiting(cell, inbox, clock, first)
        app.invalidate()


def _absorb_waiting(
    cell: Cell, inbox: "asyncio.Queue[Event]", clock: Callable[[], float], *first: Event
) -> None:
    """Fold `first` and every event waiting in the inbox into the View, on the loop's thread.

    A key press calls it too, so a key acts on every state that has already arrived.
    """
    batch = list(first)
    while not inbox.empty():
        batch.append(inbox.get_nowait())
    now = clock()
    for event in batch:
        try:
            cell.view = _absorb_event(cell.view, event, now)
        except Exception:
            log.exception("state task")


async def _join_until_seen(cell: Cell, outbox: "asyncio.Queue[Action]") -> None:
    """Send `join` at once, every few seconds until a state shows, and after a reconnection."""
    outbox.put_nowait(cell.join())
    loop_time = asyncio.get_running_loop().time
    joined_at, had_link, lost = loop_time(), False, False
    while True:
        await asyncio.sleep(0.1)  # a ticker, like Go's time.Tick: nothing waits on a result here
        up = cell.view.link.up
        waiting = cell.view.state is None and loop_time() - joined_at >= JOIN_RETRY_S
        if (up and lost) or (up and waiting):
            outbox.put_nowait(cell.join())
            joined_at, lost = loop_time(), False
        lost = lost or (had_link and not up)
        had_link = had_link or up


def _absorb_event(view: View, event: Event, now: float) -> View:
    if isinstance(event, GameState):
        return absorb(view, event, now)
    if isinstance(event, Link):
        return linked(view, event)
    return undelivered(view, event)


def _lines(lines: list[tuple[str, str]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for style, text in lines:
        out += [(style, text), ("", "\n")]
    return out[:-1]


def _guarded(receive: Callable[[threading.Event, Callable[[Event], None]], None]):  # type: ignore[no-untyped-def]
    """The consumer thread's body: a crash is logged and shown as a broken link, never printed."""

    def run(stop: threading.Event, deliver: Callable[[Event], None]) -> None:
        try:
            receive(stop, deliver)
        except Exception as err:
            log.exception("consumer thread")
            deliver(Link(up=False, detail=f"consumer stopped: {err}"))

    return run


def _quit_on_signals(
    loop: asyncio.AbstractEventLoop, app: Application[None]
) -> list[signal.Signals]:
    """SIGTERM and SIGHUP end the app like q does, so the terminal is restored on the way out."""

    def quit_app() -> None:
        if app.future is not None and not app.future.done():
            app.exit()

    installed = []
    for signum in (signal.SIGTERM, signal.SIGHUP):
        try:
            loop.add_signal_handler(signum, quit_app)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            pass
    return installed


def _log_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
    log.error("event loop: %s", context.get("message"), exc_info=context.get("exception"))  # type: ignore[arg-type]
