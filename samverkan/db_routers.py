"""Statistics from a read replica, when one is configured (`DATABASE_REPLICA_URL`).

Only reads made inside `replica_reads()` go to the replica: the regional statistics'
aggregates, where a lag of seconds does not matter. Everything else reads from the primary,
above all the access policy's decisions (a withdrawn consent blocks at once), and every write
goes to the primary, also of a row that was read from the replica. Without a replica in
`DATABASES` the router changes nothing.

The flag is a context variable, so it holds for one request in one thread (gunicorn's
`gthread` workers) and never leaks into another.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"

_replica_reads: ContextVar[bool] = ContextVar("samverkan_replica_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


@contextmanager
def replica_reads() -> Iterator[None]:
    """Send the ORM's reads inside the block to the replica, if there is one."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


class PrimaryReplicaRouter:
    def db_for_read(self, model: type, **hints: Any) -> str | None:
        if _replica_reads.get() and replica_configured():
            return REPLICA
        return None

    def db_for_write(self, model: type, **hints: Any) -> str | None:
        instance = hints.get("instance")
        if instance is not None and instance._state.db == REPLICA:
            return DEFAULT_DB_ALIAS  # the replica is read-only; there is one primary
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}:
            return True  # the same data, one copy behind
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db == REPLICA else None  # it follows the primary's schema
