"""`GET /games/{id}?version=N`: a game's state at any version, replayed from the `actions` log.

The store answers for the latest state; any earlier one is rebuilt by folding the game's
actions from its partition with the domain's rules (infra/replay.py, docs/replay.md).
"""

import threading
import time
from datetime import UTC, datetime

from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from domain.models import GameState
from infra.history import LogTrimmed, LogUnavailable
from infra.replay import NoSuchVersion, NotInLog, ReplayFailed, replay
from infra.settings import Settings

# After the broker could not be reached, answer 503 at once for this long: a request
# would otherwise hold a worker thread for the whole connection timeout.
UNREACHABLE_FOR_S = 5.0


class LogPosition(BaseModel):
    """Where the state comes from: the action of `actions` that made this version."""

    version: int
    latest_version: int = Field(description="The game's latest version in the log.")
    partition: int
    offset: int | None = Field(description="The action's offset; null for version 0.")
    written_at: datetime | None = Field(
        description="The action's record timestamp (UTC); null for version 0."
    )


class ReplayedGame(BaseModel):
    """`GET /games/{id}?version=N`: the state at version N, and where in the log it comes from."""

    state: GameState
    replayed_from: LogPosition


class Replays:
    """Replays for the API, with the broker's last failure remembered for a moment."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._down: tuple[float, str] | None = None  # (until, why)
        self._lock = threading.Lock()

    def at(self, game_id: int, version: int) -> ReplayedGame:
        """The state of `game_id` at `version`, or an HTTP error saying why there is none."""
        with self._lock:
            if self._down is not None and time.monotonic() < self._down[0]:
                raise HTTPException(503, self._down[1])
        try:
            rebuilt = replay(self.settings, game_id)
            state = rebuilt.state(version)
        except (NotInLog, NoSuchVersion) as err:
            raise HTTPException(404, str(err)) from None
        except LogTrimmed as err:
            raise HTTPException(410, str(err)) from None
        except ReplayFailed as err:  # the log holds a record the rules failed on
            raise HTTPException(409, str(err)) from None
        except LogUnavailable as err:
            with self._lock:
                self._down = (time.monotonic() + UNREACHABLE_FOR_S, str(err))
            raise HTTPException(503, str(err)) from None
        step = rebuilt.steps[version - 1] if version else None
        return ReplayedGame(
            state=state,
            replayed_from=LogPosition(
                version=version,
                latest_version=rebuilt.latest,
                partition=rebuilt.partition,
                offset=None if step is None else step.offset,
                written_at=None
                if step is None
                else datetime.fromtimestamp(step.timestamp_ms / 1000, UTC),
            ),
        )
