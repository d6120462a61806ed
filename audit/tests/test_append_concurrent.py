"""Appends from many processes at once make one unbroken chain, on either database: on
PostgreSQL each append is one statement that queues on the chain head's row lock and links
from the head its predecessor left; on SQLite each transaction holds the write lock from its
start. No event is lost, none shares a number, and every returned event is the stored one."""

from __future__ import annotations

from pathlib import Path

from audit.tests.append_race import APPENDS, THREADS
from tests.settings_probe import run_on_suite_database


def test_concurrent_appends_make_one_unbroken_chain(tmp_path: Path) -> None:
    db, report = run_on_suite_database(["-m", "audit.tests.append_race"], tmp_path / "race.json")
    assert report["vendor"] == ("postgresql" if db == "postgres" else "sqlite")
    assert report["failures"] == []
    total = THREADS * (APPENDS // 2 * 1 + (APPENDS - APPENDS // 2) * 3)
    assert report["events"] == total == report["head_seq"]
    assert report["seqs"] == list(range(1, total + 1))
    assert report["returned_as_stored"]
    assert report["intact"] and report["checked"] == total, report["reason"]
