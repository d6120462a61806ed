"""Django's database sessions, read and removed in one written-out statement each, and a
guardian's kiosk session that another request ended is not an error.

Django's own store reads a session's row before deleting it (`get()`, then `delete()`): a
round trip for nothing on every logout, login (the key is cycled) and kiosk submit. And it
reads a session through the ORM, whose compiling the query cost more than the query itself
on every request of a logged-in user or a guardian at the kiosk (profiled on the submit)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import UpdateError
from django.db import DatabaseError, connections, router
from django.utils import timezone

if TYPE_CHECKING:
    from django.contrib.sessions.base_session import AbstractBaseSession


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> AbstractBaseSession | None:
        """As Django's (the session if it has not expired, else None and no key), in a
        statement written out once. Only its data is read: that is all `load()` uses."""
        connection = connections[router.db_for_read(self.model)]
        table = connection.ops.quote_name(self.model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT session_key, session_data FROM {table}"  # noqa: S608 (a model's table)
                " WHERE session_key = %s AND expire_date > %s",
                [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return self.model(session_key=row[0], session_data=row[1])

    def delete(self, session_key: str | None = None) -> None:
        session_key = session_key or self.session_key
        if session_key is not None:
            self.model.objects.filter(session_key=session_key).delete()

    def forget(self) -> None:
        """As `flush()`, for a session whose row is removed already (the kiosk removes it in
        the transaction that stores the answers): emptied in memory, so the response drops
        the cookie and nothing is written back."""
        self.clear()
        self._session_key = None

    def save(self, must_create: bool = False) -> None:
        """As Django's, except when a session without a logged-in user was removed while this
        request ran: a double tap at the kiosk, where the other tap stored the answers and
        ended the guardian's turn while this one answered "being sent". That session is over
        and stays so (it is not written back); Django would answer this tap with a 400. A
        logged-in user's session removed meanwhile (a logout in another tab) still fails the
        request, as Django has it."""
        try:
            super().save(must_create)
        except UpdateError:
            if self.get(SESSION_KEY) is not None or not self._removed():
                raise

    def _removed(self) -> bool:
        try:
            key = self.session_key
            return key is None or not self.exists(key)
        except DatabaseError:  # the database is failing: Django's error stands
            return False
