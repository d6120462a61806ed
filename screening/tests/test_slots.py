"""The joint support calendar kept by a BVC and social services."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent
from audit.models import Action as AuditAction
from consent.policy import Purpose
from directory.models import Sector
from screening.models import SupportSlot
from tests import factories

from .test_results import TODAY, english_clients, in_the_afternoon

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _afternoon():
    yield from in_the_afternoon()


@pytest.fixture
def login(as_user):
    return english_clients(as_user)


SLOTS = reverse("screening:slots")
TOMORROW = TODAY + datetime.timedelta(days=1)


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(
        day, datetime.time(hour), tzinfo=timezone.get_current_timezone()
    )


def _slot(cast, hour: int = 10, day: datetime.date = TOMORROW, **extra) -> SupportSlot:
    return SupportSlot.objects.create(
        health_unit=extra.pop("health_unit", cast.bvc),
        social_unit=extra.pop("social_unit", cast.social),
        starts_at=_at(day, hour),
        ends_at=_at(day, hour) + datetime.timedelta(hours=1),
        **extra,
    )


def _form(unit, partner, day=TOMORROW, start="10:00", end="11:00"):
    return {
        "unit": unit.pk,
        "partner": partner.pk,
        "date": day.isoformat(),
        "start": start,
        "end": end,
        "note": "Rum 2",
    }


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_either_side_adds_a_joint_time(cast, login):
    assert login(cast.nurse).post(SLOTS, _form(cast.bvc, cast.social)).status_code == 302
    therapist = login(cast.family_therapist)
    assert (
        therapist.post(SLOTS, _form(cast.social, cast.bvc, start="13:00", end="14:00")).status_code
        == 302
    )
    slots = list(SupportSlot.objects.order_by("starts_at"))
    assert [(s.health_unit, s.social_unit, s.starts_at) for s in slots] == [
        (cast.bvc, cast.social, _at(TOMORROW, 10)),
        (cast.bvc, cast.social, _at(TOMORROW, 13)),
    ]
    assert all(s.child is None and s.version == 1 for s in slots)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"partner": "psychology"}, "partner"),  # both on the BVC side
        ({"day": TODAY - datetime.timedelta(days=1)}, "date"),
        ({"start": "11:00", "end": "10:00"}, "end"),
    ],
)
def test_a_joint_time_needs_both_sides_and_a_future_time(cast, login, change, field):
    partner = getattr(cast, change.pop("partner", "social"))
    response = login(cast.nurse).post(SLOTS, _form(cast.bvc, partner, **change))
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not SupportSlot.objects.exists()


def test_the_same_start_twice_is_a_clear_error(cast, login):
    _slot(cast, 10)
    response = login(cast.nurse).post(SLOTS, _form(cast.bvc, cast.social))
    assert response.status_code == 200
    assert "already have a time starting then" in response.content.decode()
    assert SupportSlot.objects.count() == 1


def test_the_calendar_lists_the_upcoming_times_of_the_users_units(cast, login):
    soon = _slot(cast, 10)
    _slot(cast, 10, day=TODAY - datetime.timedelta(days=2))  # over
    away_social = factories.unit(
        "Socialtjänsten Sjöstad", Sector.SOCIAL_SERVICES, cast.other_bvc.municipality
    )
    elsewhere = _slot(cast, 10, health_unit=cast.other_bvc, social_unit=away_social)
    for user in (cast.nurse, cast.family_therapist):
        rows = login(user).get(SLOTS).context["rows"]
        assert [row["slot"] for row in rows] == [soon]
    assert [row["slot"] for row in login(cast.outsider).get(SLOTS).context["rows"]] == [elsewhere]
    assert login(cast.special_educator).get(SLOTS).context["rows"] == []


def _child(cast, **extra):
    child = factories.child(bvc=cast.bvc, **extra)
    factories.guardian_of(child)
    factories.guardian_of(child)
    return child


def test_the_nurse_books_a_free_time_for_a_child_she_screens(cast, login):
    slot = _slot(cast)
    child = _child(cast, first_name="Alva")
    client = login(cast.nurse)
    page = client.get(SLOTS, {"barn": child.pk})
    assert page.context["booking_child"] == child and "Book for Alva" in page.content.decode()
    response = client.post(
        reverse("screening:slot_book", args=[slot.pk]),
        {"child": child.pk, "version": 1},
        follow=True,
    )
    slot.refresh_from_db()
    assert (slot.child, slot.booked_by, slot.version) == (child, cast.nurse, 2)
    assert _messages(response) == [f"The time is booked for {child.full_name}."]
    assert AccessEvent.objects.filter(
        action=AuditAction.SCREENING_FOLLOW_UP, child_id=child.pk, actor_username="nurse"
    ).exists()


def test_a_time_booked_by_someone_else_meanwhile_is_refused_not_overwritten(cast, login):
    slot = _slot(cast)
    first, second = _child(cast), _child(cast)
    book = reverse("screening:slot_book", args=[slot.pk])
    # Both nurses opened the calendar at version 1; the manager books first.
    assert login(cast.manager).post(book, {"child": first.pk, "version": 1}).status_code == 302
    response = login(cast.nurse).post(book, {"child": second.pk, "version": 1}, follow=True)
    slot.refresh_from_db()
    assert (slot.child, slot.booked_by, slot.version) == (first, cast.manager, 2)
    assert "Someone else booked or changed this time" in _messages(response)[0]
    # A stale form cannot book a booked time even with the current version.
    login(cast.nurse).post(book, {"child": second.pk, "version": 2})
    slot.refresh_from_db()
    assert slot.child == first


def test_booking_is_for_the_bvc_side_and_a_child_the_nurse_screens(cast, login):
    slot = _slot(cast)
    own = _child(cast)
    book = reverse("screening:slot_book", args=[slot.pk])
    assert (
        login(cast.family_therapist).post(book, {"child": own.pk, "version": 1}).status_code == 404
    )
    other = factories.child(bvc=cast.other_bvc)
    assert login(cast.nurse).post(book, {"child": other.pk, "version": 1}).status_code == 404
    slot.refresh_from_db()
    assert slot.child is None and slot.version == 1


def test_social_services_see_the_childs_name_only_when_the_policy_allows(cast, login):
    child = _child(cast, first_name="Saga", last_name="Lindqvist")
    _slot(cast, child=child, booked_by=cast.nurse, version=2)
    body = login(cast.family_therapist).get(SLOTS).content.decode()
    assert "Lindqvist" not in body and "Booked" in body
    assert not AccessEvent.objects.filter(actor_username="therapist").exists()
    factories.consent(
        child, cast.nurse, Purpose.INFORMATION_EXCHANGE, sectors=[Sector.SOCIAL_SERVICES]
    )
    assert "Saga Lindqvist" in login(cast.family_therapist).get(SLOTS).content.decode()
    event = AccessEvent.objects.filter(actor_username="therapist").get()
    assert (event.action, event.child_id, event.basis) == (
        AuditAction.VIEW_CHILD,
        child.pk,
        "consent",
    )
    assert "Saga Lindqvist" in login(cast.nurse).get(SLOTS).content.decode()


def test_a_booking_is_cancelled_by_either_side_unless_it_changed_meanwhile(cast, login):
    slot = _slot(cast, child=_child(cast), booked_by=cast.nurse, version=2)
    cancel = reverse("screening:slot_cancel", args=[slot.pk])
    stale = login(cast.family_therapist).post(cancel, {"version": 1}, follow=True)
    assert "changed by someone else" in _messages(stale)[0]
    slot.refresh_from_db()
    assert slot.child is not None
    login(cast.family_therapist).post(cancel, {"version": 2})
    slot.refresh_from_db()
    assert (slot.child, slot.booked_by, slot.version) == (None, None, 3)
    assert login(cast.outsider).post(cancel, {"version": 3}).status_code == 404


def _count(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(SLOTS).status_code == 200
    return len(captured)


def test_the_calendar_runs_the_same_number_of_queries_for_3_and_30_booked_times(cast, login):
    client = login(cast.nurse)
    for hour in range(3):
        _slot(cast, 8 + hour, child=_child(cast), booked_by=cast.nurse)
    three = _count(client)
    for day in range(1, 10):
        for hour in range(3):
            _slot(cast, 8 + hour, day=TOMORROW + datetime.timedelta(days=day), child=_child(cast))
    assert _count(client) == three
    assert len(client.get(SLOTS).context["rows"]) == 30
