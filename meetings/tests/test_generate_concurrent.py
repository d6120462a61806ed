"""`generate_meetings` fired by two hosts' timers at the same moment creates each meeting once,
on either database: the unique (team, start) constraint lets one insert win, and the other's
`get_or_create` takes the IntegrityError as "exists" and reads the winner's row (on SQLite the
second insert first waits for the first's write lock, then meets the same constraint)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


def test_two_hosts_running_the_command_at_once_create_each_meeting_once(tmp_path: Path) -> None:
    url = os.environ.get("DATABASE_URL", "")
    db = "postgres" if url.startswith(("postgres", "pgsql")) else "sqlite"
    out = tmp_path / "race.json"
    result = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, "-m", "meetings.tests.generate_race", f"--db={db}", f"--out={out}"],
        cwd=PROJECT_DIR,
        env={k: v for k, v in os.environ.items() if k != "SAMVERKAN_TESTING"},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert out.exists(), result.stdout + result.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["vendor"] == ("postgresql" if db == "postgres" else "sqlite")
    assert report["failures"] == []
    # Both runs looked for each team's meetings at the same moment...
    assert report["in_step"] == sorted(["BHT Plus Ekby", "HLT Ekby"] * 2)
    # ...and January to March has three first Tuesdays for each team, each created once.
    assert report["meetings"] == {"BHT Plus Ekby": 3, "HLT Ekby": 3}
