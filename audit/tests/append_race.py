"""Many processes' appends at the same moment: threads append access events, singly and in
batches, each in transactions of its own, on a fresh database of the suite's kind.

Run by test_append_concurrent.py in a process of its own (as meetings.tests.generate_race,
for the same reasons: the threads need their own connections to committed data)."""

from __future__ import annotations

import threading
from typing import Any

from tests.settings_probe import script_on_a_fresh_database

THREADS, APPENDS = 6, 25  # each thread's appends: a single event or a batch of three


def race() -> dict[str, Any]:
    from django.db import connection, connections, transaction
    from django.test import RequestFactory

    from audit.models import AccessEvent, Action, ChainHead
    from audit.services import Access, access_log_many, audit_verify
    from consent.policy import Basis, Decision, Purpose
    from directory.models import Sector
    from tests import factories

    home = factories.organisation("Ekby kommun")
    bvc = factories.unit("BVC Ekby", Sector.CHILD_HEALTH, home)
    nurse = factories.professional("nurse", units=[bvc])
    connections.close_all()  # the threads open their own

    together = threading.Barrier(THREADS, timeout=30)
    failures: list[str] = []
    written: list[tuple[int, int]] = []  # (seq, id) as each append returned them

    def run(n: int) -> None:
        request = RequestFactory().get("/")
        request.user = nurse
        request.request_id = f"thread-{n}"  # type: ignore[attr-defined]  # as the middleware
        decision = Decision(allowed=True, basis=Basis.OWN_UNIT, unit=bvc)
        try:
            together.wait()
            for i in range(APPENDS):
                batch = 1 if i % 2 else 3
                accesses = [
                    Access(Action.VIEW_CHILD, Purpose.CARE, decision, child_id=n * 1000 + i)
                    for _ in range(batch)
                ]
                with transaction.atomic():
                    events = access_log_many(request=request, accesses=accesses)
                written.extend((event.seq, event.pk) for event in events)
        except BaseException as error:  # reported by the test
            failures.append(repr(error))
            together.abort()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = list(AccessEvent.objects.order_by("seq").values_list("seq", "pk"))
    head = ChainHead.objects.get()
    report = audit_verify()
    return {
        "vendor": connection.vendor,
        "failures": failures,
        "events": len(stored),
        "seqs": [seq for seq, _ in stored],
        "returned_as_stored": sorted(written) == stored,
        "head_seq": head.seq,
        "intact": report.intact,
        "checked": report.checked,
        "reason": report.reason,
    }


if __name__ == "__main__":
    # Migrated: the append-only triggers, the chain head and `audit_links`.
    script_on_a_fresh_database(race, fast_schema=False)
