"""After a crash soak (SIGKILLs mid-stream, states re-sent on recovery), every game's audit passes.

The dataflow was killed while four producers fed it; what it wrote on `games`, duplicates
included, must equal the replay of the `actions` log byte for byte, for every game.
"""

import pytest

from bench.soak import run_soak
from infra.audit import audit

pytestmark = pytest.mark.slow


def test_every_game_of_a_crash_soak_audits_clean(settings, tmp_path) -> None:
    report = run_soak(
        settings, tmp_path, games=24, actions=2400, kills=2, workers=2, seed=16, writers=4
    )
    assert report.kills == 2

    audits = [audit(settings, game_id)[0] for game_id in range(1000, 1024)]

    print(
        report.summary(),
        f"; audited {len(audits)} games, {sum(a.duplicates for a in audits)} re-sent",
    )
    assert [a.summary() for a in audits if not a.ok] == []
    assert sum(a.matched for a in audits) == report.distinct_states == 2400
    assert sum(a.duplicates for a in audits) == report.duplicates
