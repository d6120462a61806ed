"""No lost updates under concurrent edits: 8 editors x 10 edits at once on one SIP and on one
meeting agenda item's minutes, each a thread with its own connection to a real database of
its own (bench/concurrent_edits.py in its quick form; pytest-django's transactional database
cannot be used, as the audit triggers refuse its flush).

The database is the suite's kind: a SQLite file, or a fresh PostgreSQL database on the server
of DATABASE_URL. The full run (8, 16, 32 editors x 200 edits, and the plain-save() baseline)
is `bench/concurrent_edits.py`, run by `make bench`."""

from __future__ import annotations

from pathlib import Path

from tests.settings_probe import PROJECT_DIR, run_on_suite_database


def test_concurrent_editors_lose_no_update_on_plans_or_minutes(tmp_path: Path) -> None:
    db, report = run_on_suite_database(
        [
            str(PROJECT_DIR / "bench" / "concurrent_edits.py"),
            "--editors=8",
            "--edits=10",
            "--no-baseline",
            "--fast-schema",
        ],
        tmp_path / "edits.json",
    )
    assert report["vendor"] == ("postgresql" if db == "postgres" else "sqlite")
    for round_ in report["rounds"]:
        assert round_["lost_updates"] == 0, round_
        refused = round_["refused_conflicts"] + round_["refused_database_busy"]
        assert round_["acknowledged"] + refused == 8 * 10, round_
        assert round_["acknowledged"] > 0 and round_["ok"], round_
    assert report["pass"]
