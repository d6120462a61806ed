"""Documenting a joint visit: each profession in its own sector's record, with its own topics;
the other sector's note text shows only under an information-exchange consent, and each such
read is logged."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AccessEvent, Action
from conftest import request_as
from consent.policy import Purpose
from directory.models import Sector
from tests import factories
from visits.models import HomeVisit, VisitNote
from visits.services import VisitError, visit_document

from . import core_fixtures as fx

pytestmark = pytest.mark.django_db
frozen, programme, baby, enrolment, first_visit = (
    fx.frozen,
    fx.programme,
    fx.baby,
    fx.enrolment,
    fx.first_visit,
)
NURSE_TEXT = "Amningen fungerar, viktkurvan följer sin kanal."
THERAPIST_TEXT = "Föräldrarna berättar om sömnbrist och oro inför vardagen."


def document(cast, visit, who: str, text: str, topics: list[str]):
    return visit_document(
        request=request_as(getattr(cast, who)), visit=visit, text=text, topics=topics
    )


@pytest.fixture
def both_notes(cast, first_visit):
    document(cast, first_visit, "nurse", NURSE_TEXT, ["feeding", "growth"])
    document(cast, first_visit, "family_therapist", THERAPIST_TEXT, ["parenthood"])
    return first_visit


def test_the_nurse_documents_in_the_bvcs_record_and_the_visit_is_made(cast, first_visit):
    note = document(cast, first_visit, "nurse", NURSE_TEXT, ["feeding", "growth", "health"])

    assert (note.unit, note.author, note.topics) == (
        cast.bvc,
        cast.nurse,
        ["feeding", "growth", "health"],
    )
    first_visit.refresh_from_db()
    assert first_visit.done_at is not None
    event = AccessEvent.objects.get(action=Action.VISIT_DOCUMENT)
    assert (event.unit_id, event.child_id) == (cast.bvc.pk, first_visit.enrolment.child_id)


def test_the_family_therapist_documents_in_social_services_own_record(cast, first_visit):
    document(cast, first_visit, "nurse", NURSE_TEXT, ["feeding"])
    done_at = HomeVisit.objects.get(pk=first_visit.pk).done_at

    note = document(cast, first_visit, "family_therapist", THERAPIST_TEXT, ["parenthood"])

    assert note.unit == cast.social
    assert HomeVisit.objects.get(pk=first_visit.pk).done_at == done_at  # the first note's time


@pytest.mark.parametrize(
    "who, topics",
    [("nurse", ["parenthood"]), ("family_therapist", ["feeding"]), ("nurse", ["nonsense"])],
)
def test_each_profession_documents_only_its_own_sectors_topics(cast, first_visit, who, topics):
    with pytest.raises(VisitError, match="own sector's topics"):
        document(cast, first_visit, who, "Text", topics)
    assert not VisitNote.objects.exists()
    assert HomeVisit.objects.get(pk=first_visit.pk).done_at is None


def test_an_empty_note_is_refused_and_changes_nothing(cast, first_visit, as_user):
    with pytest.raises(VisitError, match="Write what"):
        document(cast, first_visit, "nurse", "   ", ["feeding"])

    response = as_user(cast.nurse).post(
        reverse("visits:document", args=[first_visit.pk]), {"text": "  ", "topics": ["feeding"]}
    )
    assert response.status_code == 200
    assert "text" in response.context["form"].errors
    assert not VisitNote.objects.exists()
    assert HomeVisit.objects.get(pk=first_visit.pk).done_at is None


def test_a_topic_of_the_other_sector_on_the_page_is_a_form_error(cast, first_visit, as_user):
    response = as_user(cast.nurse).post(
        reverse("visits:document", args=[first_visit.pk]),
        {"text": NURSE_TEXT, "topics": ["parenthood"]},
    )

    assert response.status_code == 200
    assert "topics" in response.context["form"].errors
    assert not VisitNote.objects.exists()


def test_the_document_page_offers_the_authors_own_sectors_topics(cast, first_visit, as_user):
    nurse_page = as_user(cast.nurse).get(reverse("visits:document", args=[first_visit.pk]))
    therapist_page = as_user(cast.family_therapist).get(
        reverse("visits:document", args=[first_visit.pk])
    )

    assert [c[0] for c in nurse_page.context["form"].fields["topics"].choices] == [
        "feeding",
        "growth",
        "health",
    ]
    assert [c[0] for c in therapist_page.context["form"].fields["topics"].choices] == [
        "parenthood",
        "communication",
        "siblings",
    ]


def family_page(client, visit):
    return client.get(reverse("visits:enrolment", args=[visit.enrolment_id])).content.decode()


@pytest.mark.parametrize(
    "reader, own, other",
    [("nurse", NURSE_TEXT, THERAPIST_TEXT), ("family_therapist", THERAPIST_TEXT, NURSE_TEXT)],
)
def test_without_an_information_exchange_consent_the_other_sectors_note_text_stays_hidden(
    cast, both_notes, as_user, reader, own, other
):
    text = family_page(as_user(getattr(cast, reader)), both_notes)

    assert own in text
    assert other not in text
    assert "information exchange" in text or "informationsutbyte" in text
    assert not AccessEvent.objects.filter(
        action=Action.VIEW_VISITS, purpose=Purpose.INFORMATION_EXCHANGE
    ).exists()


@pytest.mark.parametrize(
    "reader, other, unit",
    [("nurse", THERAPIST_TEXT, "bvc"), ("family_therapist", NURSE_TEXT, "social")],
)
def test_with_an_information_exchange_consent_the_other_sectors_note_is_read_and_logged(
    cast, both_notes, as_user, reader, other, unit
):
    consent = factories.consent(
        both_notes.enrolment.child,
        cast.nurse,
        Purpose.INFORMATION_EXCHANGE,
        sectors=[Sector.CHILD_HEALTH, Sector.SOCIAL_SERVICES],
    )

    text = family_page(as_user(getattr(cast, reader)), both_notes)

    assert other in text
    event = AccessEvent.objects.get(action=Action.VIEW_VISITS, purpose=Purpose.INFORMATION_EXCHANGE)
    assert (event.actor_username, event.basis, event.basis_reference, event.unit_id) == (
        getattr(cast, reader).username,
        "consent",
        f"consent:{consent.pk}",
        getattr(cast, unit).pk,
    )


def test_a_consent_that_reaches_only_the_nurse_does_not_open_the_bvcs_note_to_the_therapist(
    cast, both_notes, as_user
):
    factories.consent(
        both_notes.enrolment.child,
        cast.nurse,
        Purpose.INFORMATION_EXCHANGE,
        sectors=[Sector.CHILD_HEALTH],
    )

    assert THERAPIST_TEXT in family_page(as_user(cast.nurse), both_notes)
    assert NURSE_TEXT not in family_page(as_user(cast.family_therapist), both_notes)


def test_the_family_page_runs_the_same_number_of_queries_for_few_and_many_notes(
    cast, first_visit, as_user
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = as_user(cast.nurse)
    document(cast, first_visit, "nurse", NURSE_TEXT, ["feeding"])
    document(cast, first_visit, "family_therapist", THERAPIST_TEXT, ["parenthood"])

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            family_page(client, first_visit)
        return len(captured)

    few = count()
    second = first_visit.enrolment.visits.get(programme_visit__number=2)
    for _ in range(4):
        document(cast, first_visit, "nurse", NURSE_TEXT, ["growth"])
        document(cast, second, "family_therapist", THERAPIST_TEXT, ["siblings"])
    assert count() == few
