"""Ending a family's programme and cancelling a booking without a new time: the visits not
yet made are cancelled with their bookings, what was done stays, and each act is audited;
bad input, someone else's change meanwhile, or the wrong person changes nothing."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action
from conftest import request_as
from visits.models import Enrolment, HomeVisit, VisitBooking
from visits.queries import Status, visit_status
from visits.services import (
    StaleBooking,
    VisitError,
    booking_cancel,
    enrolment_end,
    visit_book,
    visit_document,
)

from . import core_fixtures as fx
from .core_fixtures import NOW

pytestmark = pytest.mark.django_db
frozen, programme, baby, enrolment, first_visit = (
    fx.frozen,
    fx.programme,
    fx.baby,
    fx.enrolment,
    fx.first_visit,
)
TOMORROW = NOW + datetime.timedelta(days=1)


def book(cast, visit, *, user=None, **kwargs):
    return visit_book(
        request=request_as(user or cast.nurse),
        visit=visit,
        starts_at=TOMORROW,
        nurse=cast.nurse,
        therapist=cast.family_therapist,
        **kwargs,
    )


def test_ending_cancels_the_visits_not_made_and_their_bookings_and_keeps_the_rest(
    cast, enrolment, first_visit
):
    booking = book(cast, first_visit)
    second = enrolment.visits.get(programme_visit__number=2)
    visit_document(request=request_as(cast.nurse), visit=second, text="Vägning", topics=[])

    ended = enrolment_end(
        request=request_as(cast.nurse), enrolment=enrolment, reason="Familjen har flyttat"
    )

    assert (ended.status, ended.end_reason) == (Enrolment.Status.ENDED, "Familjen har flyttat")
    ended.refresh_from_db()
    assert ended.ended_at is not None
    visits = {visit.pk: visit for visit in HomeVisit.objects.filter(enrolment=enrolment)}
    assert visits[second.pk].cancelled_at is None and visits[second.pk].done_at is not None
    not_made = [visit for pk, visit in visits.items() if pk != second.pk]
    assert not_made and all(visit.cancelled_at is not None for visit in not_made)
    assert all(
        visit_status(visit, timezone.localdate(), ended.ended_at) == Status.ENDED
        for visit in not_made
    )
    booking.refresh_from_db()
    assert booking.cancelled_at is not None and booking.cancel_reason == "Familjen har flyttat"
    event = AccessEvent.objects.get(action=Action.ENROLMENT_END)
    assert (event.actor_username, event.unit_id, event.child_id) == (
        "nurse",
        cast.bvc.pk,
        enrolment.child_id,
    )


@pytest.mark.parametrize("reason", ["", "   "])
def test_ending_needs_a_reason(cast, enrolment, reason):
    with pytest.raises(VisitError, match="why the programme ends"):
        enrolment_end(request=request_as(cast.nurse), enrolment=enrolment, reason=reason)
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACCEPTED
    assert not HomeVisit.objects.filter(enrolment=enrolment, cancelled_at__isnull=False).exists()


def test_only_the_childs_own_bvc_ends_the_programme(cast, enrolment):
    for user in (cast.family_therapist, cast.outsider):
        with pytest.raises(VisitError):
            enrolment_end(request=request_as(user), enrolment=enrolment, reason="Slut")
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACCEPTED
    assert not AccessEvent.objects.filter(action=Action.ENROLMENT_END).exists()


def test_a_programme_not_in_progress_cannot_be_ended(cast, programme):
    offered = fx.offered(cast, fx.newborn(cast), programme)
    with pytest.raises(VisitError, match="accepted"):
        enrolment_end(request=request_as(cast.nurse), enrolment=offered, reason="Slut")

    accepted = fx.accepted(cast, fx.newborn(cast), programme)
    enrolment_end(request=request_as(cast.nurse), enrolment=accepted, reason="Slut")
    with pytest.raises(VisitError, match="accepted"):  # ended already
        enrolment_end(request=request_as(cast.nurse), enrolment=accepted, reason="Igen")
    accepted.refresh_from_db()
    assert accepted.end_reason == "Slut"


def test_after_the_end_no_visit_is_booked_or_documented(cast, enrolment, first_visit):
    enrolment_end(request=request_as(cast.nurse), enrolment=enrolment, reason="Klart")
    first, second = (enrolment.visits.get(programme_visit__number=n) for n in (1, 2))

    with pytest.raises(VisitError):
        book(cast, second)
    with pytest.raises(VisitError):
        visit_document(request=request_as(cast.nurse), visit=first, text="Sent", topics=[])
    assert not VisitBooking.objects.exists()
    assert not first_visit.notes.exists()


def test_cancelling_a_booking_keeps_it_in_the_history_and_the_visit_can_be_booked_again(
    cast, first_visit
):
    booking = book(cast, first_visit)

    cancelled = booking_cancel(
        request=request_as(cast.family_therapist),
        visit=first_visit,
        expected_booking=booking,
        reason="Familjen är sjuk",
    )

    assert cancelled.cancelled_at is not None and cancelled.cancel_reason == "Familjen är sjuk"
    event = AccessEvent.objects.get(action=Action.VISIT_CANCEL)
    assert (event.unit_id, event.basis) == (cast.social.pk, "consent")
    again = book(cast, first_visit)
    assert VisitBooking.objects.filter(visit=first_visit).count() == 2
    assert again.cancelled_at is None


def test_a_booking_someone_else_moved_meanwhile_is_not_cancelled(cast, first_visit):
    seen = book(cast, first_visit)
    moved = book(
        cast,
        first_visit,
        user=cast.family_therapist,
        expected_booking=seen,
        reason="Krock",
    )

    with pytest.raises(StaleBooking):
        booking_cancel(
            request=request_as(cast.nurse),
            visit=first_visit,
            expected_booking=seen,
            reason="Sjuk",
        )
    moved.refresh_from_db()
    assert moved.cancelled_at is None
    assert not AccessEvent.objects.filter(action=Action.VISIT_CANCEL).exists()


@pytest.mark.parametrize("reason", ["", "  "])
def test_cancelling_needs_a_reason(cast, first_visit, reason):
    booking = book(cast, first_visit)
    with pytest.raises(VisitError, match="why the booking is cancelled"):
        booking_cancel(
            request=request_as(cast.nurse),
            visit=first_visit,
            expected_booking=booking,
            reason=reason,
        )
    booking.refresh_from_db()
    assert booking.cancelled_at is None


def test_an_outsider_cannot_cancel_a_booking(cast, first_visit):
    booking = book(cast, first_visit)
    with pytest.raises(VisitError):
        booking_cancel(
            request=request_as(cast.outsider),
            visit=first_visit,
            expected_booking=booking,
            reason="Sjuk",
        )
    booking.refresh_from_db()
    assert booking.cancelled_at is None


def test_the_pages_end_the_programme_and_cancel_a_booking(cast, enrolment, first_visit, as_user):
    booking = book(cast, first_visit)
    client = as_user(cast.nurse)
    family = reverse("visits:enrolment", args=[enrolment.pk])
    page = client.get(family).content.decode()
    assert reverse("visits:end", args=[enrolment.pk]) in page
    assert reverse("visits:cancel", args=[first_visit.pk]) in page

    url = reverse("visits:cancel", args=[first_visit.pk])
    assert client.get(url).status_code == 200
    done = client.post(url, {"expected": booking.pk, "reason": "Barnet är sjukt"})
    assert done.status_code == 302
    booking.refresh_from_db()
    assert booking.cancelled_at is not None
    page = client.get(family).content.decode()
    assert "Barnet är sjukt" in page and "Avbokat" in page

    url = reverse("visits:end", args=[enrolment.pk])
    assert client.get(url).status_code == 200
    ended = client.post(url, {"reason": "Familjen har flyttat"})
    assert ended.status_code == 302
    page = client.get(family).content.decode()
    assert "Familjen har flyttat" in page and "Inställt: programmet har avslutats" in page
    assert reverse("visits:end", args=[enrolment.pk]) not in page  # nothing more to end


@pytest.mark.parametrize(
    "data",
    [
        {"reason": ""},
        {"reason": "x" * 301, "expected": "1"},
        {"reason": "Sjuk", "expected": "abc"},
        {"reason": "Sjuk", "expected": "9" * 30},
        {"reason": "Sjuk", "expected": "999999"},
    ],
)
def test_bad_input_on_the_cancel_page_is_a_form_error(cast, first_visit, as_user, data):
    booking = book(cast, first_visit)
    response = as_user(cast.nurse).post(reverse("visits:cancel", args=[first_visit.pk]), data)
    assert response.status_code == 200
    assert response.context["form"].errors
    booking.refresh_from_db()
    assert booking.cancelled_at is None


def test_the_end_page_is_the_bvcs_only(cast, enrolment, as_user):
    url = reverse("visits:end", args=[enrolment.pk])
    response = as_user(cast.family_therapist).post(url, {"reason": "Slut"})
    assert response.status_code == 302  # back to the family's page, nothing changed
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACCEPTED
    assert as_user(cast.outsider).get(url).status_code == 404
