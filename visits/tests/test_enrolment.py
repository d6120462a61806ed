"""Offering the programme, and the family's answer: accept (consent + schedule) or decline."""

from __future__ import annotations

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse

from audit.models import AccessEvent, Action
from conftest import request_as
from consent.models import Consent, ConsentScope, GuardianConsent
from consent.policy import Purpose
from families.models import Custody
from visits.models import Enrolment, HomeVisit
from visits.services import (
    CONSENT_MARGIN_DAYS,
    Giving,
    VisitError,
    enrolment_accept,
    enrolment_decline,
    enrolment_offer,
)

from . import core_fixtures as fx
from .core_fixtures import TODAY, givings, newborn, offered

frozen, programme, baby = fx.frozen, fx.programme, fx.baby

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int, int]:
    return (
        Enrolment.objects.count(),
        Consent.objects.count(),
        GuardianConsent.objects.count(),
        HomeVisit.objects.count(),
    )


# --- Offer ----------------------------------------------------------------------------------


def test_the_bvc_offers_the_programme_to_an_eligible_newborn_and_keeps_why_it_was_eligible(
    cast, programme, baby
):
    enrolment = offered(cast, baby, programme)

    assert enrolment.status == Enrolment.Status.OFFERED
    assert enrolment.unit == cast.bvc
    assert enrolment.area.postal_code_prefix == "99130"
    assert enrolment.rule == "all"
    assert enrolment.first_time_parents is True
    assert enrolment.offered_by == cast.nurse
    event = AccessEvent.objects.get(action=Action.ENROLMENT_OFFER)
    assert (event.child_id, event.unit_id, event.allowed) == (baby.pk, cast.bvc.pk, True)


def test_a_child_outside_the_programme_areas_is_not_offered_it(cast, programme):
    elsewhere = newborn(cast, postal_code="99240")

    with pytest.raises(VisitError, match="not eligible"):
        offered(cast, elsewhere, programme)
    assert not Enrolment.objects.exists()


def with_older_sibling(cast, postal_code: str):
    child = newborn(cast, postal_code=postal_code, guardians=1)
    older = newborn(cast, days=900, postal_code=postal_code, guardians=0)
    Custody.objects.create(child=older, guardian=child.custodies.get().guardian, kind="sole")
    return child


def test_in_a_first_time_parents_area_only_first_born_children_are_offered_it(cast, programme):
    with pytest.raises(VisitError, match="not eligible"):
        offered(cast, with_older_sibling(cast, "99138"), programme)

    made = offered(cast, newborn(cast, postal_code="99138"), programme)
    assert (made.rule, made.first_time_parents) == ("first_time", True)


def test_in_an_all_families_area_a_second_child_is_offered_it_too(cast, programme):
    made = offered(cast, with_older_sibling(cast, "99130"), programme)

    assert (made.rule, made.first_time_parents) == ("all", False)


def test_only_the_childs_own_bvc_offers_the_programme(cast, programme, baby):
    for user in (cast.outsider, cast.family_therapist, cast.special_educator):
        with pytest.raises(VisitError, match="own BVC"):
            enrolment_offer(request=request_as(user), child=baby, programme=programme)
    assert not Enrolment.objects.exists()
    assert not AccessEvent.objects.filter(action=Action.ENROLMENT_OFFER).exists()


def test_the_programme_is_offered_once(cast, programme, baby):
    offered(cast, baby, programme)

    with pytest.raises(VisitError, match="already been offered"):
        offered(cast, baby, programme)
    assert Enrolment.objects.count() == 1


def test_an_inactive_programme_is_not_offered(cast, programme, baby):
    programme.active = False
    programme.save()

    with pytest.raises(VisitError, match="no longer offered"):
        offered(cast, baby, programme)


def test_the_offer_page_offers_and_shows_the_family_page(cast, programme, baby, as_user):
    client = as_user(cast.nurse)

    page = client.get(reverse("visits:offer", args=[baby.pk]))
    assert page.status_code == 200
    assert programme.name in page.content.decode()

    response = client.post(reverse("visits:offer", args=[baby.pk]), {"programme": programme.pk})

    enrolment = Enrolment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("visits:enrolment", args=[enrolment.pk])


def test_offering_a_programme_the_child_is_not_eligible_for_is_a_form_error(
    cast, programme, as_user
):
    elsewhere = newborn(cast, postal_code="99240")

    response = as_user(cast.nurse).post(
        reverse("visits:offer", args=[elsewhere.pk]), {"programme": programme.pk}
    )

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Enrolment.objects.exists()


# --- Accept ---------------------------------------------------------------------------------


def test_acceptance_by_both_guardians_is_their_consent_and_schedules_the_visits_from_birth(
    cast, programme, baby
):
    enrolment = offered(cast, baby, programme)

    enrolment = enrolment_accept(
        request=request_as(cast.nurse), enrolment=enrolment, givings=givings(baby)
    )

    assert enrolment.status == Enrolment.Status.ACCEPTED
    assert enrolment.decided_at is not None
    assert enrolment.decision_recorded_by == cast.nurse
    consent = enrolment.consent
    assert consent.purpose == Purpose.HOME_VISITS
    assert consent.state() == Consent.State.EFFECTIVE
    assert [scope.unit for scope in ConsentScope.objects.filter(consent=consent)] == [cast.social]
    assert consent.givings.count() == 2  # joint custody: every guardian
    visits = list(enrolment.visits.order_by("due_date"))
    birth = baby.birth_date
    assert [v.due_date for v in visits] == [
        birth + datetime.timedelta(weeks=1),
        birth + relativedelta(months=2),
        birth + relativedelta(months=4),
    ]
    assert (visits[0].window_start, visits[0].window_end) == (
        birth,  # due at one week, the window opens 7 days before
        birth + datetime.timedelta(days=21),
    )
    assert consent.valid_from == TODAY
    assert consent.valid_until == visits[-1].window_end + datetime.timedelta(
        days=CONSENT_MARGIN_DAYS
    )
    assert all(v.cancelled_at is None and v.done_at is None for v in visits)
    assert AccessEvent.objects.filter(action=Action.ENROLMENT_DECIDE, child_id=baby.pk).exists()


def test_acceptance_without_every_guardian_changes_nothing(cast, programme, baby):
    enrolment = offered(cast, baby, programme)
    before = counts()

    with pytest.raises(VisitError, match="Every guardian"):
        enrolment_accept(
            request=request_as(cast.nurse), enrolment=enrolment, givings=givings(baby)[:1]
        )

    assert counts() == before
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.OFFERED


def test_verbal_acceptance_needs_a_witness_and_a_refusal_changes_nothing(cast, programme, baby):
    enrolment = offered(cast, baby, programme)
    before = counts()

    with pytest.raises(VisitError, match="witness"):
        enrolment_accept(
            request=request_as(cast.nurse),
            enrolment=enrolment,
            givings=givings(baby, GuardianConsent.Method.VERBAL),
        )

    assert counts() == before
    done = enrolment_accept(
        request=request_as(cast.nurse),
        enrolment=enrolment,
        givings=[
            Giving(g.guardian, GuardianConsent.Method.VERBAL, witness="Undersköterska BVC")
            for g in givings(baby)
        ],
    )
    assert done.status == Enrolment.Status.ACCEPTED


def test_visits_whose_window_closed_before_the_family_joined_are_not_applicable(cast, programme):
    late = newborn(cast, days=40)  # the first visit's window closed on day 21
    enrolment = offered(cast, late, programme)

    enrolment_accept(request=request_as(cast.nurse), enrolment=enrolment, givings=givings(late))

    first, second, third = enrolment.visits.order_by("due_date")
    assert first.cancelled_at is not None
    assert second.cancelled_at is None and third.cancelled_at is None


def test_the_accept_page_records_each_guardians_confirmation(cast, programme, baby, as_user):
    enrolment = offered(cast, baby, programme)
    client = as_user(cast.nurse)
    url = reverse("visits:accept", args=[enrolment.pk])
    page = client.get(url)
    assert page.status_code == 200
    guardians = [g.guardian for g in givings(baby)]
    for guardian in guardians:
        assert guardian.full_name in page.content.decode()

    one = {f"confirm_{guardians[0].pk}": "on", f"method_{guardians[0].pk}": "tablet"}
    refused = client.post(url, {**one, f"method_{guardians[1].pk}": "tablet"})
    assert refused.status_code == 200
    assert f"confirm_{guardians[1].pk}" in refused.context["form"].errors
    assert not Consent.objects.exists()

    both = {
        **one,
        f"confirm_{guardians[1].pk}": "on",
        f"method_{guardians[1].pk}": "verbal",
        f"witness_{guardians[1].pk}": "Undersköterska BVC",
    }
    response = client.post(url, both)
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACCEPTED
    assert enrolment.consent.givings.filter(method="verbal").count() == 1


# --- Decline --------------------------------------------------------------------------------


def test_the_family_declines_with_a_reason(cast, programme, baby):
    enrolment = offered(cast, baby, programme)
    guardian = givings(baby)[0].guardian

    enrolment_decline(
        request=request_as(cast.nurse),
        enrolment=enrolment,
        guardian=guardian,
        reason="Har redan stöd",
    )

    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.DECLINED
    assert enrolment.decline_reason == "Har redan stöd"
    assert enrolment.decided_by == guardian
    assert not Consent.objects.exists() and not HomeVisit.objects.exists()


def test_the_family_declines_without_giving_a_reason(cast, programme, baby, as_user):
    enrolment = offered(cast, baby, programme)

    response = as_user(cast.nurse).post(
        reverse("visits:decline", args=[enrolment.pk]), {"guardian": "", "reason": ""}
    )

    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.DECLINED
    assert enrolment.decline_reason == ""
    assert enrolment.decided_at is not None


def test_an_answered_offer_cannot_be_answered_again(cast, programme, baby):
    enrolment = offered(cast, baby, programme)
    enrolment_decline(request=request_as(cast.nurse), enrolment=enrolment)
    before = counts()

    with pytest.raises(VisitError, match="already answered"):
        enrolment_accept(request=request_as(cast.nurse), enrolment=enrolment, givings=givings(baby))

    assert counts() == before
