"""The one place the environment is read: every setting, its `MOBA_` variable and its default.

Entrypoints call `Settings()` once and pass plain values down; nothing reads the
environment at import time.
"""

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.timeouts import Limits

EmbeddedKind = Literal["tansu", "noida"]


class BadSetting(ValueError):
    """MOBA_* variables that cannot be used: each one's name and what is wrong with it.

    Raised by `Settings()` instead of pydantic's error, so every entrypoint reports a bad
    setting the same way (the CLI: one line per variable, exit 2) and a secret's value
    is never echoed.
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems

    @classmethod
    def from_error(cls, err: ValidationError) -> "BadSetting":
        return cls([_problem(e) for e in err.errors(include_url=False)])


def _problem(error: Any) -> str:
    """`MOBA_PARTITIONS='abc': input should be a valid integer`; never a secret's value."""
    field = str(error["loc"][0]) if error["loc"] else "?"
    name = f"MOBA_{field.upper()}"
    what = error["msg"][:1].lower() + error["msg"][1:]
    if field == "secret":
        if error["type"] == "too_short":
            what = f"must be at least {error['ctx']['min_length']} characters long"
        return f"{name}: {what}"
    return f"{name}={error.get('input')!r}: {what}"


class Settings(BaseSettings):
    """Configuration shared by the dataflow, the client, the bots, the CLI and the API."""

    # hide_input_in_errors: a bad setting's message must never echo a value (MOBA_SECRET)
    model_config = SettingsConfigDict(env_prefix="MOBA_", extra="ignore", hide_input_in_errors=True)

    bootstrap_servers: str = Field(
        "localhost:9092",
        description="Comma-separated Kafka bootstrap servers; point it at a real Kafka to leave the embedded broker.",
    )
    embedded_broker: EmbeddedKind = Field(
        "noida",
        description="The broker `moba up`, `moba broker`, `moba demo` and the tests start when none answers: noida (keeps its log in `<data_dir>/broker`) or tansu (in memory); docs/brokers.md compares them.",
    )
    partitions: int = Field(
        10,
        ge=1,
        description="Partitions of `actions` and `games`; game g lives on partition g mod P of both.",
    )
    actions_topic: str = Field("actions", description="Where clients write intents.")
    games_topic: str = Field(
        "games", description="Where the dataflow writes each game's new state."
    )
    dlq_topic: str = Field(
        "actions.dlq", description="Where undecodable actions go, with the reason."
    )
    replication_factor: int = Field(
        1, ge=1, description="Replication factor used when creating topics."
    )
    data_dir: Path = Field(
        Path(".moba"),
        description="Root of local data: the recovery store lives in `<data_dir>/recovery`.",
    )
    snapshot_interval_s: float = Field(
        1.0, gt=0, description="Seconds between recovery snapshots (Bytewax epoch length)."
    )
    backup_interval_s: float = Field(
        0.0,
        ge=0,
        description="How long Bytewax keeps superseded snapshots around; 0 on a single host.",
    )
    fetch_wait_max_ms: int = Field(
        10,
        ge=0,
        description="fetch.wait.max.ms for every consumer on a game's path; Tansu answers only when it expires.",
    )
    max_action_bytes: int = Field(
        4096, ge=64, description="Larger action messages are dead-lettered as oversized, unread."
    )
    secret: SecretStr | None = Field(
        None,
        min_length=16,
        description="Server secret for join tokens (16+ characters); unset means open games (anyone may act as anyone).",
    )
    api_host: str = Field("127.0.0.1", description="Address `moba api` binds.")
    api_port: int = Field(8000, ge=0, le=65535, description="Port `moba api` binds.")
    gateway_linger_ms: int = Field(
        5,
        ge=0,
        le=1000,
        description="How long the gateway's producer gathers intents into one batch per partition.",
    )
    gateway_delivery_timeout_ms: int = Field(
        10_000,
        ge=1000,
        description="An intent the broker has not acknowledged by then is reported to its socket as `undelivered`.",
    )
    gateway_socket_buffer: int = Field(
        256,
        ge=1,
        description="States waiting for one slow WebSocket; beyond it the oldest are dropped (each state is whole).",
    )
    gateway_leave_grace_s: float = Field(
        10.0,
        ge=0,
        le=3600,
        description="A seat whose sockets all closed is left after this long, unless its session reconnects.",
    )
    idle_timeout_s: float = Field(
        300.0,
        gt=0,
        description="Log time without an accepted action after which a seat frees and a running game is abandoned.",
    )
    evict_after_s: float = Field(
        60.0,
        ge=0,
        description="Log time an ended game stays in the dataflow's memory; then only its final state is kept, for queries.",
    )
    tick_interval_s: float = Field(
        5.0,
        gt=0,
        description="How often the dataflow writes a clock record to each partition of `actions`, so time reaches quiet games.",
    )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as err:
            raise BadSetting.from_error(err) from None

    @property
    def bootstrap_list(self) -> list[str]:
        """The bootstrap servers split once, so no adapter parses the string itself."""
        return [s.strip() for s in self.bootstrap_servers.split(",") if s.strip()]

    @property
    def secret_key(self) -> bytes | None:
        """The secret as the HMAC key both issuing and verifying tokens use; None for open games."""
        return None if self.secret is None else self.secret.get_secret_value().encode()

    @property
    def limits(self) -> Limits:
        """The timeouts as the rules take them (ms of log time): the dataflow and every replay use these."""
        return Limits(round(self.idle_timeout_s * 1000), round(self.evict_after_s * 1000))

    def as_env(self) -> dict[str, str]:
        """These settings as MOBA_* variables, to hand to a child process (e.g. the dataflow)."""
        env = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            env[f"MOBA_{name.upper()}"] = str(value)
        return env

    @property
    def broker_dir(self) -> Path:
        """Where an embedded broker that keeps its log (noida) keeps it."""
        return self.data_dir / "broker"

    @property
    def archive_path(self) -> Path:
        """Where the dataflow keeps the final states of the games it has evicted (infra/archive.py)."""
        return self.data_dir / "archive.sqlite3"

    @property
    def recovery_dir(self) -> Path:
        """Where Bytewax keeps its SQLite recovery partitions (`part-*.sqlite3`)."""
        return self.data_dir / "recovery"
