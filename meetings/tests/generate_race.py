"""Two runs of `generate_meetings` at the same moment, as when two hosts' timers fire it.

Run by test_generate_concurrent.py in a process of its own, against a fresh database of the
suite's kind (a SQLite file, or a PostgreSQL database of its own): the threads need committed
data that each one's connection sees, which the suite's test database cannot give (SQLite's is
in memory, where a locked table fails at once instead of waiting; and the access log's
triggers refuse the flush that ends a transactional test on PostgreSQL)."""

from __future__ import annotations

import io
import threading
from typing import Any

from tests.settings_probe import script_on_a_fresh_database

PERIOD = ["--start", "2026-01-01", "--months", "3"]
TEAMS = ["BHT Plus Ekby", "HLT Ekby"]


def race() -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection, connections

    from directory.models import Sector
    from meetings import services
    from meetings.models import Meeting, Team
    from tests import factories

    home = factories.organisation("Ekby kommun")
    place = factories.unit("Öppna förskolan Ekby", Sector.OPEN_PRESCHOOL, home)
    coordinator = factories.professional("coordinator", units=[place], profession="coordinator")
    for name in TEAMS:
        factories.team(name, Team.Model.BHT_PLUS, coordinator, [(coordinator, place)])
    connections.close_all()  # the threads open their own

    together = threading.Barrier(2, timeout=30)
    dates = services.meeting_dates
    met: list[str] = []

    def meeting_dates_in_step(team: Team, *args: Any) -> list[Any]:
        together.wait()  # both runs look for each team's meetings at the same moment
        met.append(team.name)
        return dates(team, *args)

    services.meeting_dates = meeting_dates_in_step  # type: ignore[assignment]
    failures: list[str] = []

    def run() -> None:
        try:
            call_command("generate_meetings", *PERIOD, stdout=io.StringIO(), verbosity=0)
        except BaseException as error:  # reported by the test
            failures.append(repr(error))
            together.abort()
        finally:
            connections.close_all()

    runs = [threading.Thread(target=run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()
    return {
        "vendor": connection.vendor,
        "failures": failures,
        "in_step": sorted(met),
        "meetings": {name: Meeting.objects.filter(team__name=name).count() for name in TEAMS},
    }


if __name__ == "__main__":
    script_on_a_fresh_database(race, fast_schema=True)
