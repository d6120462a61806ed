"""Writing to and checking the access log."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import CharField, Field
from django.http import HttpRequest
from django.utils import timezone

from .models import GENESIS_HASH, AccessEvent, ChainHead, Scheme

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
    """Append several events in one go (a page showing many identified children): one
    statement on PostgreSQL, three on SQLite, whatever their number (up to `_CHUNK`)."""
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
    now = timezone.now()
    events = []
    for access in accesses:
        unit, child = access.decision.unit, access.child
        events.append(
            AccessEvent(
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
                scheme=Scheme.LINKED,
                **actor,
            )
        )
    # No savepoint inside a caller's transaction (two round trips fewer per event): if the
    # append fails, the caller's whole transaction fails with it, as it must.
    append = _append_linked_there if connection.vendor == "postgresql" else _append_linked_here
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        for start in range(0, len(events), _CHUNK):
            append(cursor, events[start : start + _CHUNK])
    return events


_CHUNK = 500  # events per statement: well inside either database's limit on parameters

# The statements of an append, in SQL: the ORM's model machinery cost as much as the
# statements themselves (an access event took 1.9 ms, the goal is 1 ms).
_EVENT_FIELDS = [f for f in AccessEvent._meta.concrete_fields if not f.primary_key]
_CONTENT_FIELDS = [f for f in _EVENT_FIELDS if f.attname not in ("seq", "prev_hash", "hash")]
_HEAD = ChainHead._meta.db_table
_TABLE = AccessEvent._meta.db_table


def _typed(field: Field) -> str:
    """The SQL type a parameter for the field's column is cast to (the statements below take
    values where PostgreSQL cannot infer a type); text for any length of text, so that a
    value too long fails the insert, not truncated."""
    db_type = "text" if isinstance(field, CharField) else field.db_type(connection)
    if db_type is None:  # a field without a column: never one of the log's
        raise TypeError(f"{field} has no column")
    return db_type


def _column(field: Field) -> str:
    if field.column is None:  # as above
        raise TypeError(f"{field} has no column")
    return field.column


# On PostgreSQL an append is one statement, whatever the number of events: the head moves on
# and links the events as it does (`audit_link`, migration 0008: `models.link` in SQL, applied
# to the head as it was, which the UPDATE's expressions see), and the events are inserted with
# those links. Concurrent appends queue on the head's row lock; each one's UPDATE then reads
# the head its predecessor left. One round trip instead of two (lock and read the head, then
# insert). The single event, which every child's page writes, has a statement of its own:
# the batch's (the chain in `audit_links`, the events as arrays) costs the server about
# 0.3 ms more for one event.
_COLUMNS = ", ".join(_column(f) for f in _CONTENT_FIELDS)
_APPEND_ONE = f"""
WITH head AS (
    UPDATE {_HEAD} SET seq = seq + 1, prev_hash = hash, hash = audit_link(hash, seq + 1, %s)
    WHERE id = 1
    RETURNING seq, prev_hash, hash
)
INSERT INTO {_TABLE} (seq, prev_hash, hash, {_COLUMNS})
SELECT head.seq, head.prev_hash, head.hash, {", ".join(f"%s::{_typed(f)}" for f in _CONTENT_FIELDS)}
FROM head
RETURNING id, seq, prev_hash, hash
"""  # noqa: S608 (names from the models, values as parameters)
_APPEND_MANY = f"""
WITH head AS (
    UPDATE {_HEAD} AS h SET seq = h.seq + %(count)s, prev_hash = h.hash,
        hash = (SELECT l.hash FROM audit_links(h.hash, h.seq, %(digests)s::text[]) AS l
                ORDER BY l.seq DESC LIMIT 1)
    WHERE h.id = 1
    RETURNING h.seq - %(count)s AS seq, h.prev_hash AS hash
), links AS (
    SELECT l.* FROM head, audit_links(head.hash, head.seq, %(digests)s::text[])
        WITH ORDINALITY AS l(seq, prev_hash, hash, n)
)
INSERT INTO {_TABLE} (seq, prev_hash, hash, {_COLUMNS})
SELECT links.seq, links.prev_hash, links.hash,
    {", ".join(f"content.{_column(f)}" for f in _CONTENT_FIELDS)}
FROM links JOIN UNNEST({", ".join(f"%({f.attname})s::{_typed(f)}[]" for f in _CONTENT_FIELDS)})
    WITH ORDINALITY AS content({_COLUMNS}, n) USING (n)
RETURNING id, seq, prev_hash, hash
"""  # noqa: S608 (names from the models, values as parameters)


def _append_linked_there(cursor: CursorWrapper, events: list[AccessEvent]) -> None:
    statement: str
    params: Sequence[Any] | dict[str, Any]
    if len(events) == 1:
        statement = _APPEND_ONE
        params = [events[0].body_digest(), *(_prepared(events[0], f) for f in _CONTENT_FIELDS)]
    else:
        statement = _APPEND_MANY
        params = {"count": len(events), "digests": [event.body_digest() for event in events]}
        for field in _CONTENT_FIELDS:
            params[field.attname] = [_prepared(event, field) for event in events]
    cursor.execute(statement, params)
    rows = cursor.fetchall()
    if not rows:  # a new database: the head is made once
        ChainHead.objects.get_or_create(pk=1)
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    # The events took the numbers after the head in their order.
    for event, row in zip(events, sorted(rows, key=lambda row: row[1]), strict=True):
        event.pk, event.seq, event.prev_hash, event.hash = row


def _append_linked_here(cursor: CursorWrapper, events: list[AccessEvent]) -> None:
    """SQLite: the head read (its transactions hold the database's write lock from their
    start, `"immediate"`), the events linked here (`AccessEvent.compute_hash`) and inserted,
    and the head moved on. In process, there are no round trips to save."""
    cursor.execute(f"SELECT seq, hash FROM {_HEAD} WHERE id = 1")  # noqa: S608
    row = cursor.fetchone()
    if row is None:  # a new database: the head is made once
        row = ChainHead.objects.get_or_create(pk=1)[0]
        row = (row.seq, row.hash)
    seq, prev_hash = row
    for event in events:
        seq += 1
        event.seq, event.prev_hash = seq, prev_hash
        event.hash = prev_hash = event.compute_hash()
    values = [_prepared(event, field) for event in events for field in _EVENT_FIELDS]
    columns = ", ".join(_column(field) for field in _EVENT_FIELDS)
    one = "(" + ", ".join(["%s"] * len(_EVENT_FIELDS)) + ")"
    insert = f"INSERT INTO {_TABLE} ({columns}) VALUES {', '.join([one] * len(events))}"  # noqa: S608
    cursor.execute(f"{insert} RETURNING seq, id", values)
    ids = dict(cursor.fetchall())
    for event in events:
        event.pk = ids[event.seq]
    cursor.execute(
        f"UPDATE {_HEAD} SET seq = %s, prev_hash = %s, hash = %s WHERE id = 1",  # noqa: S608
        [events[-1].seq, events[0].prev_hash, events[-1].hash],
    )


def _prepared(event: AccessEvent, field: Field) -> Any:
    """The event's value for the field, prepared as the ORM would."""
    return field.get_db_prep_save(getattr(event, field.attname), connection)


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
