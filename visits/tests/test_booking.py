"""Booking a joint visit, and moving it: the moved booking is kept with its reason; a move
someone else made first is refused; bad input changes nothing."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from audit.models import AccessEvent, Action
from conftest import request_as
from directory.models import Profession
from tests import factories
from visits.models import Enrolment, VisitBooking
from visits.services import StaleBooking, VisitError, visit_book

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


def book(cast, visit, *, user=None, when=TOMORROW, **kwargs):
    arguments = {"nurse": cast.nurse, "therapist": cast.family_therapist, **kwargs}
    return visit_book(
        request=request_as(user or cast.nurse), visit=visit, starts_at=when, **arguments
    )


def test_the_nurse_books_a_joint_visit_with_the_family_therapist(cast, first_visit):
    booking = book(cast, first_visit)

    assert (booking.nurse, booking.therapist, booking.booked_by) == (
        cast.nurse,
        cast.family_therapist,
        cast.nurse,
    )
    assert booking.cancelled_at is None
    event = AccessEvent.objects.get(action=Action.VISIT_BOOK)
    assert (event.actor_username, event.unit_id, event.basis) == ("nurse", cast.bvc.pk, "own_unit")


def test_the_family_therapist_books_under_the_familys_consent(cast, first_visit):
    booking = book(cast, first_visit, user=cast.family_therapist)

    assert booking.booked_by == cast.family_therapist
    event = AccessEvent.objects.get(action=Action.VISIT_BOOK)
    assert (event.unit_id, event.basis) == (cast.social.pk, "consent")
    assert event.basis_reference == f"consent:{first_visit.enrolment.consent_id}"


def test_moving_a_visit_cancels_the_old_booking_with_the_reason_and_keeps_it(cast, first_visit):
    old = book(cast, first_visit)

    new = book(
        cast,
        first_visit,
        when=TOMORROW + datetime.timedelta(days=2),
        expected_booking=old,
        reason="Familjen är sjuk",
    )

    old.refresh_from_db()
    assert old.cancelled_at is not None and old.cancel_reason == "Familjen är sjuk"
    assert new.cancelled_at is None
    assert list(first_visit.bookings.order_by("pk")) == [old, new]


def test_a_move_someone_else_made_first_is_refused_and_changes_nothing(cast, first_visit):
    seen = book(cast, first_visit)
    book(
        cast,
        first_visit,
        user=cast.family_therapist,
        when=TOMORROW + datetime.timedelta(hours=3),
        expected_booking=seen,
        reason="Krockar med annat möte",
    )
    before = list(VisitBooking.objects.values_list("pk", "cancelled_at", "starts_at"))

    with pytest.raises(StaleBooking, match="Someone else"):
        book(cast, first_visit, expected_booking=seen, reason="Flyttas", when=TOMORROW)
    with pytest.raises(StaleBooking):
        book(cast, first_visit)  # booking anew as if nothing were booked

    assert list(VisitBooking.objects.values_list("pk", "cancelled_at", "starts_at")) == before


def test_moving_needs_a_reason(cast, first_visit):
    old = book(cast, first_visit)

    with pytest.raises(VisitError, match="why"):
        book(cast, first_visit, expected_booking=old, reason=" ")
    assert VisitBooking.objects.filter(cancelled_at__isnull=True).get() == old


@pytest.mark.parametrize(
    "change, message",
    [
        ({"when": NOW - datetime.timedelta(hours=1)}, "has not passed"),
        ({"nurse": None}, "with a BVC nurse"),
        ({"therapist": None}, "with a family therapist"),
        ({"nurse": "outsider"}, "must work at the BVC"),
        ({"therapist": "nurse"}, "must work at the programme's social services"),
        ({"nurse": "other_nurse"}, "must work at the BVC"),
    ],
)
def test_bad_booking_input_is_refused_clearly_and_changes_nothing(
    cast, first_visit, change, message
):
    people = {
        "outsider": cast.outsider,
        "nurse": cast.nurse,
        "other_nurse": factories.professional(
            "other_nurse", units=[cast.other_bvc], profession=Profession.BVC_NURSE
        ),
    }
    change = {k: people.get(v, v) if isinstance(v, str) else v for k, v in change.items()}

    with pytest.raises(VisitError, match=message):
        book(cast, first_visit, **change)
    assert not VisitBooking.objects.exists()
    assert not AccessEvent.objects.filter(action=Action.VISIT_BOOK).exists()


def test_a_visit_of_a_programme_that_has_ended_cannot_be_booked(cast, first_visit):
    Enrolment.objects.filter(pk=first_visit.enrolment_id).update(status=Enrolment.Status.ENDED)
    first_visit.enrolment.status = Enrolment.Status.ENDED

    with pytest.raises(VisitError, match="not accepted"):
        book(cast, first_visit)
    assert not VisitBooking.objects.exists()


def test_a_visit_outside_the_users_programme_cannot_be_booked(cast, first_visit):
    with pytest.raises(VisitError):
        book(cast, first_visit, user=cast.outsider)
    assert not VisitBooking.objects.exists()


def test_the_booking_page_books_and_shows_the_history_on_the_family_page(
    cast, first_visit, as_user
):
    client = as_user(cast.nurse)
    url = reverse("visits:book", args=[first_visit.pk])
    assert client.get(url).status_code == 200

    response = client.post(
        url,
        {
            "date": "2026-03-04",
            "time": "10:00",
            "nurse": cast.nurse.pk,
            "therapist": cast.family_therapist.pk,
        },
    )
    assert response.status_code == 302
    old = VisitBooking.objects.get()

    moved = client.post(
        url,
        {
            "date": "2026-03-05",
            "time": "13:30",
            "nurse": cast.nurse.pk,
            "therapist": cast.family_therapist.pk,
            "expected": old.pk,
            "reason": "Familjen bad om en annan dag",
        },
    )
    assert moved.status_code == 302

    page = client.get(reverse("visits:enrolment", args=[first_visit.enrolment_id]))
    text = page.content.decode()
    assert "2026-03-04 10:00" in text and "2026-03-05 13:30" in text
    assert "Familjen bad om en annan dag" in text


@pytest.mark.parametrize(
    "data, field",
    [
        ({"date": "2026-03-01", "time": "10:00"}, "date"),  # yesterday
        ({"date": "", "time": "10:00"}, "date"),
        ({"date": "2026-03-04", "time": "25:00"}, "time"),
        ({"date": "2026-03-04", "time": "10:00", "nurse": "99999999"}, "nurse"),
        ({"date": "2026-03-04", "time": "10:00", "nurse": "9" * 30}, "nurse"),
    ],
)
def test_bad_input_on_the_booking_page_is_a_form_error(cast, first_visit, as_user, data, field):
    people = {"nurse": cast.nurse.pk, "therapist": cast.family_therapist.pk}

    response = as_user(cast.nurse).post(
        reverse("visits:book", args=[first_visit.pk]), {**people, **data}
    )

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not VisitBooking.objects.exists()


def test_a_stale_move_on_the_booking_page_says_so(cast, first_visit, as_user):
    seen = book(cast, first_visit)
    book(
        cast,
        first_visit,
        user=cast.family_therapist,
        when=TOMORROW + datetime.timedelta(days=1),
        expected_booking=seen,
        reason="Krock",
    )

    response = as_user(cast.nurse).post(
        reverse("visits:book", args=[first_visit.pk]),
        {
            "date": "2026-03-06",
            "time": "09:00",
            "nurse": cast.nurse.pk,
            "therapist": cast.family_therapist.pk,
            "expected": seen.pk,
            "reason": "Annan tid",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert VisitBooking.objects.count() == 2
