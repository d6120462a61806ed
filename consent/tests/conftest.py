"""The consent view tests read English messages: their clients choose English, as a user can
with the language switch (Swedish stays the default, tested in accounts/tests)."""

import pytest
from django.conf import settings


@pytest.fixture
def as_user(as_user):
    def english_client(user):
        client = as_user(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return english_client
