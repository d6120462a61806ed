"""The consent view tests read English messages: their clients choose English, as a user can
with the language switch (Swedish stays the default, tested in accounts/tests)."""

import pytest
from django.conf import settings


@pytest.fixture
def as_user(as_user):  # type: ignore[no-untyped-def]
    def english_client(user):  # type: ignore[no-untyped-def]
        client = as_user(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return english_client
