"""Writing to and checking the access log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from .models import GENESIS_HASH, AccessEvent, ChainHead

if TYPE_CHECKING:
    from django.db.backends.utils import CursorWrapper

    from consent.policy import Decision, Purpose
    from families.models import Child


@dataclass(frozen=True)
class Access:
    """One access to be logged: what was done, why, the decision, and which child."""

    action: str
    purpose: Purpose
    decision: Decision
    child: Child | None = None
    child_id: int | None = None


def access_log(
    *,
    request: HttpRequest,
    action: str,
    purpose: Purpose,
    decision: Decision,
    child: Child | None = None,
    child_id: int | None = None,
) -> AccessEvent:
    """Append one access event, allowed or denied, to the hash chain.

    Called at the point of access. Inside a caller's transaction it joins it, so a write and
    its audit entry commit together or not at all.
    """
    access = Access(action, purpose, decision, child, child_id)
    return access_log_many(request=request, accesses=[access])[0]


def access_log_many(*, request: HttpRequest, accesses: list[Access]) -> list[AccessEvent]:
    """Append several events in one go (a page showing many identified children): one lock,
    one insert, whatever their number."""
    if not accesses:
        return []
    user = request.user
    actor = {
        "actor_id": user.pk if user.is_authenticated else None,
        "actor_username": user.get_username() if user.is_authenticated else "",
        "actor_name": user.get_full_name() if user.is_authenticated else "",
        "actor_role": getattr(user, "profession", "") or "",
        "request_id": getattr(request, "request_id", ""),
    }
    # No savepoint inside a caller's transaction (two round trips fewer per event): if the
    # append fails, the caller's whole transaction fails with it, as it must.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        seq, prev_hash = _lock_head(cursor)
        now = timezone.now()
        events = []
        for access in accesses:
            unit, child = access.decision.unit, access.child
            seq += 1
            event = AccessEvent(
                seq=seq,
                occurred_at=now,
                unit_id=unit.pk if unit else None,
                unit_name=unit.name if unit else "",
                action=access.action,
                purpose=access.purpose,
                child_id=child.pk if child is not None else access.child_id,
                child_identifier=child.identifier if child is not None else "",
                basis=access.decision.basis,
                basis_reference=access.decision.reference,
                allowed=access.decision.allowed,
                prev_hash=prev_hash,
                **actor,
            )
            event.hash = prev_hash = event.compute_hash()
            events.append(event)
        _append(cursor, events)
    return events


# The two statements of an append, in SQL: the ORM's model machinery cost as much as the
# statements themselves (an access event took 1.9 ms, the goal is 1 ms).
_EVENT_FIELDS = [f for f in AccessEvent._meta.concrete_fields if not f.primary_key]
_HEAD = ChainHead._meta.db_table


def _lock_head(cursor: CursorWrapper) -> tuple[int, str]:
    """Lock the chain head until the transaction ends and read it. SQLite has no row locks:
    its transactions take the database's write lock when they begin (`"immediate"`)."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    select = f"SELECT seq, hash FROM {_HEAD} WHERE id = 1{lock}"  # noqa: S608
    cursor.execute(select)
    row = cursor.fetchone()
    if row is None:  # a new database: the head is made once
        ChainHead.objects.get_or_create(pk=1)
        cursor.execute(select)
        row = cursor.fetchone()
    return row[0], row[1]


_CHUNK = 500  # events per INSERT: well inside either database's limit on parameters


def _append(cursor: CursorWrapper, events: list[AccessEvent]) -> None:
    """Insert the events and advance the head to the last of them. On PostgreSQL the head
    goes with the (last) insert in one statement, a writable CTE, so one round trip; SQLite
    has no writable CTE and, being in process, no round trip to save."""
    advance = f"UPDATE {_HEAD} SET seq = %s, hash = %s WHERE id = 1"  # noqa: S608
    last = [events[-1].seq, events[-1].hash]
    together = connection.vendor == "postgresql"
    ids: dict[int, int] = {}
    for start in range(0, len(events), _CHUNK):
        chunk = events[start : start + _CHUNK]
        insert, values = _insert_statement(chunk)
        if together and start + _CHUNK >= len(events):
            cursor.execute(f"WITH head AS ({advance}) {insert}", [*last, *values])
        else:
            cursor.execute(insert, values)
        ids.update(cursor.fetchall())
    if not together:
        cursor.execute(advance, last)
    for event in events:
        event.pk = ids[event.seq]


def _insert_statement(events: list[AccessEvent]) -> tuple[str, list[object]]:
    """One INSERT of the events, returning their ids by sequence number. Names come from the
    model, values go as parameters, prepared by their fields as the ORM would."""
    values = [
        field.get_db_prep_save(getattr(event, field.attname), connection)
        for event in events
        for field in _EVENT_FIELDS
    ]
    columns = ", ".join(field.column for field in _EVENT_FIELDS)
    rows = ", ".join(["(" + ", ".join(["%s"] * len(_EVENT_FIELDS)) + ")"] * len(events))
    table = AccessEvent._meta.db_table
    return f"INSERT INTO {table} ({columns}) VALUES {rows} RETURNING seq, id", values  # noqa: S608


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None = None  # seq of the first event that does not link
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def _events_in_order(page_size: int) -> Iterator[AccessEvent]:
    after = None
    while True:
        events = AccessEvent.objects.order_by("seq")
        if after is not None:
            events = events.filter(seq__gt=after)
        page = list(events[:page_size])
        yield from page
        if len(page) < page_size:
            return
        after = page[-1].seq


def audit_verify(
    *, chunk_size: int = 5000, on_event: Callable[[], object] | None = None
) -> ChainReport:
    """Walk the chain in order and report the first link that does not hold.

    The head is read before the walk: every event up to it has committed by then, so events
    appended while the walk runs (a live system) are checked too, and are no false alarm.
    The events are read in pages by `seq`, not through one cursor: no server-side cursor
    (which a pooler in transaction mode cannot keep) and no copy of the whole log.
    """
    head = ChainHead.objects.filter(pk=1).first()
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    hash_at_head = GENESIS_HASH  # the hash "at event 0", for an empty log
    for event in _events_in_order(chunk_size):
        if event.seq != expected_seq:
            return ChainReport(checked, expected_seq, f"event {expected_seq} is missing")
        if event.prev_hash != prev_hash:
            return ChainReport(checked, event.seq, "it does not link to the event before")
        if event.compute_hash() != event.hash:
            return ChainReport(checked, event.seq, "its content has been changed")
        expected_seq, prev_hash, checked = expected_seq + 1, event.hash, checked + 1
        if head is not None and event.seq == head.seq:
            hash_at_head = event.hash
        if on_event is not None:
            on_event()
    if head is not None and checked < head.seq:
        return ChainReport(checked, checked + 1, "events at the end of the log are missing")
    if head is not None and hash_at_head != head.hash:
        return ChainReport(checked, head.seq, "it does not match the chain head")
    return ChainReport(checked)
