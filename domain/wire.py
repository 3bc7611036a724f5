"""The wire format (JSON, UTF-8) shared by the client, the dataflow, the CLI and the API.

Decoding never raises anything but `InvalidMessage`, whose `reason` is a short
machine-readable word that the dataflow puts on the dead-letter topic.
"""

from typing import Literal

from pydantic import TypeAdapter, ValidationError

from domain.models import Action, GameState

DeadLetterReason = Literal["oversized", "not_json", "unknown_type", "invalid_action"]

_ACTION = TypeAdapter[Action](Action)


class InvalidMessage(ValueError):
    """A message that is not a valid action; `reason` says which kind, `detail` says where."""

    def __init__(self, reason: DeadLetterReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: DeadLetterReason = reason
        self.detail = detail


def decode_action(raw: bytes | None, max_bytes: int = 4096) -> Action:
    """The action in `raw`, or `InvalidMessage` saying why it is not one."""
    if raw is None:
        raise InvalidMessage("not_json", "empty message (null value)")
    if len(raw) > max_bytes:
        raise InvalidMessage("oversized", f"{len(raw)} bytes > {max_bytes}")
    try:
        return _ACTION.validate_json(raw)
    except ValidationError as err:
        raise InvalidMessage(_reason(err), _summary(err)) from None
    except (ValueError, RecursionError) as err:  # e.g. undecodable UTF-8 inside the parser
        raise InvalidMessage("not_json", str(err)[:200]) from None


def encode_action(action: Action) -> bytes:
    """`action` as wire JSON, without fields left at their defaults that mean nothing (no token)."""
    return action.model_dump_json(exclude_none=True).encode()


def encode_state(state: GameState) -> bytes:
    """`state` as wire JSON."""
    return state.model_dump_json().encode()


def decode_state(raw: bytes | str) -> GameState:
    """A state written by `encode_state` (raises pydantic's ValidationError otherwise)."""
    return GameState.model_validate_json(raw)


def _reason(err: ValidationError) -> DeadLetterReason:
    kinds = {e["type"] for e in err.errors()}
    if kinds & {"json_invalid", "json_type", "recursion_loop"}:
        return "not_json"
    if "union_tag_invalid" in kinds:
        return "unknown_type"
    return "invalid_action"


def _summary(err: ValidationError) -> str:
    parts = []
    for e in err.errors(include_url=False, include_input=False)[:3]:
        where = ".".join(str(p) for p in e["loc"]) or "message"
        parts.append(f"{where}: {e['msg']}")
    return "; ".join(parts)[:300]
