"""The audit's comparison, pure: states read on `games` against the replay's, version by version."""

from domain.models import Move
from domain.rules import fold
from domain.wire import encode_state
from infra.audit import compare

GAME = 5
ACTIONS = [
    Move(game_id=GAME, player=p, direction=d, action_id=str(i))
    for i, (p, d) in enumerate([("A1", "down"), ("B2", "up"), ("A1", "down"), ("A3", "left")])
]
REPLAYED = [encode_state(fold(GAME, ACTIONS[: v + 1])) for v in range(len(ACTIONS))]


def test_the_same_states_in_order_are_no_mismatch() -> None:
    audit = compare(GAME, REPLAYED, list(REPLAYED))

    assert audit.ok
    assert (audit.recorded, audit.duplicates, audit.matched) == (4, 0, 4)
    assert "equals the replay, byte for byte" in audit.summary()


def test_a_version_re_sent_with_the_same_bytes_after_a_crash_is_a_duplicate_not_a_mismatch() -> None:
    audit = compare(GAME, REPLAYED, [*REPLAYED[:3], *REPLAYED[1:]])

    assert audit.ok
    assert (audit.recorded, audit.duplicates, audit.matched) == (6, 2, 4)


def test_a_version_re_sent_with_other_bytes_is_a_mismatch() -> None:
    other = REPLAYED[1].replace(b'"version":2', b'"version":2 ')
    audit = compare(GAME, REPLAYED, [*REPLAYED, other])

    assert audit.mismatch is not None
    assert audit.mismatch.version == 2
    assert "wrote this version twice, with different bytes" in audit.mismatch.why


def test_the_first_differing_version_is_named_with_the_fields_that_differ() -> None:
    tampered = [*REPLAYED]
    tampered[2] = tampered[2].replace(b'"grenades":5', b'"grenades":4', 1)
    tampered[3] = b"{}"

    audit = compare(GAME, REPLAYED, tampered)

    assert audit.mismatch is not None and audit.mismatch.version == 3
    assert audit.mismatch.differences() == ["players.A1.grenades: recorded 4, replayed 5"]
    assert "version 3 differs: the state differs" in audit.summary()


def test_versions_before_the_first_kept_state_are_trimmed_and_after_the_last_not_written_yet() -> (
    None
):
    audit = compare(GAME, REPLAYED, REPLAYED[1:3])

    assert audit.ok
    assert (audit.missing_first, audit.missing_last) == ([1], [4])
    assert "version 1 is no longer on games (trimmed by its retention)" in audit.summary()
    assert "version 4 is not on games yet" in audit.summary()


def test_a_version_missing_between_two_kept_ones_is_a_mismatch() -> None:
    audit = compare(GAME, REPLAYED, [REPLAYED[0], REPLAYED[2], REPLAYED[3]])

    assert audit.mismatch is not None and audit.mismatch.version == 2
    assert "not on games" in audit.mismatch.why


def test_a_version_the_log_does_not_explain_is_a_mismatch() -> None:
    beyond = encode_state(fold(GAME, [*ACTIONS, ACTIONS[0]]))

    audit = compare(GAME, REPLAYED, [*REPLAYED, beyond])

    assert audit.mismatch is not None and audit.mismatch.version == 5
    assert "the log explains versions 1 to 4" in audit.mismatch.why
