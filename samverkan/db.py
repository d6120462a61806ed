"""Database helpers shared by the apps."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import connection, transaction


@contextlib.contextmanager
def commit_without_waiting() -> Iterator[None]:
    """A transaction whose commit does not wait for the disk (PostgreSQL's asynchronous
    commit), for writes that a crash may lose without harm: markers that only say something
    is under way, or clean-up that the next request would redo. Every later ordinary commit
    flushes it with its own, so it is never lost when a write that depends on it is kept.
    On SQLite an ordinary transaction (its durability is set for the whole file)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        yield
