"""`generate_meetings` fired by two hosts' timers at the same moment creates each meeting once,
on either database: the unique (team, start) constraint lets one insert win, and the other's
`get_or_create` takes the IntegrityError as "exists" and reads the winner's row (on SQLite the
second insert first waits for the first's write lock, then meets the same constraint)."""

from __future__ import annotations

from pathlib import Path

from tests.settings_probe import run_on_suite_database


def test_two_hosts_running_the_command_at_once_create_each_meeting_once(tmp_path: Path) -> None:
    db, report = run_on_suite_database(
        ["-m", "meetings.tests.generate_race"], tmp_path / "race.json"
    )
    assert report["vendor"] == ("postgresql" if db == "postgres" else "sqlite")
    assert report["failures"] == []
    # Both runs looked for each team's meetings at the same moment...
    assert report["in_step"] == sorted(["BHT Plus Ekby", "HLT Ekby"] * 2)
    # ...and January to March has three first Tuesdays for each team, each created once.
    assert report["meetings"] == {"BHT Plus Ekby": 3, "HLT Ekby": 3}
