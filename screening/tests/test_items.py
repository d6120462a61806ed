"""The items the kiosk's submit checks and scores against: a published version's are read once
per process (they never change), a draft's every time (they may)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from screening.items import items_by_number
from screening.models import Item, PublishedError, QuestionnaireVersion
from tests import factories

pytestmark = pytest.mark.django_db


def read(version_id: int) -> tuple[dict[int, list[str]], int]:
    """The items' options by number, and how many queries reading them took."""
    with CaptureQueriesContext(connection) as captured:
        items = items_by_number(version_id)
    return {number: item.options for number, item in items.items()}, len(captured)


def test_a_published_versions_items_are_read_once_and_then_kept():
    version = factories.questionnaire(items=3)
    assert read(version.pk) == ({1: ["yes", "no"], 2: ["yes", "no"], 3: ["yes", "no"]}, 1)
    assert read(version.pk) == ({1: ["yes", "no"], 2: ["yes", "no"], 3: ["yes", "no"]}, 0)
    with pytest.raises(PublishedError):  # what is kept cannot go stale
        Item.objects.filter(version=version).first().save()


def test_a_drafts_items_are_read_every_time_and_a_change_shows_at_once():
    version = factories.questionnaire(items=2)
    QuestionnaireVersion.objects.filter(pk=version.pk).update(published_at=None)  # a draft
    assert read(version.pk) == ({1: ["yes", "no"], 2: ["yes", "no"]}, 1)
    # Changed without any signal (as another process would): still seen at once.
    Item.objects.filter(version=version, number=2).update(options=["yes", "no", "maybe"])
    assert read(version.pk) == ({1: ["yes", "no"], 2: ["yes", "no", "maybe"]}, 1)


def test_saving_a_version_or_an_item_empties_the_processs_copy():
    kept = factories.questionnaire(items=1)
    read(kept.pk)
    draft = factories.questionnaire(items=1)  # saves a version and its items
    QuestionnaireVersion.objects.filter(pk=draft.pk).update(published_at=None)
    draft.refresh_from_db()
    assert read(kept.pk)[1] == 1  # read again after the saves
    assert read(kept.pk)[1] == 0
    Item.objects.create(
        version=draft,
        number=2,
        domain=Item.objects.get(version=draft).domain,
        options=["a", "b"],
        positive=["a"],
        guidance_sv="-",
        guidance_en="-",
    )
    assert read(kept.pk)[1] == 1
    assert read(draft.pk)[0] == {1: ["yes", "no"], 2: ["a", "b"]}
