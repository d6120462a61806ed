"""Django's database sessions, removed in one statement.

Django's own store reads a session's row before deleting it (`get()`, then `delete()`): a
round trip for nothing on every logout, login (the key is cycled) and kiosk submit."""

from __future__ import annotations

from django.contrib.sessions.backends import db


class SessionStore(db.SessionStore):
    def delete(self, session_key: str | None = None) -> None:
        session_key = session_key or self.session_key
        if session_key is not None:
            self.model.objects.filter(session_key=session_key).delete()
