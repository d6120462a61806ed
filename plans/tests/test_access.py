"""Who sees a plan: the child's own units, and units its own SIP consent reaches while it is in
force. Anyone else gets a 404 exactly like a missing plan, and the attempt is logged."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from audit.models import AccessEvent, Action
from conftest import request_as
from consent.policy import Basis
from consent.services import consent_withdraw
from directory.models import Sector
from plans import services
from plans.models import PlanParticipant
from plans.services import PlanError

from .sip_helpers import (
    english,
    english_messages,  # noqa: F401 - a fixture
    family,
    save,
    sip_consent,
    started,
    with_therapist,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]


def _page(response) -> str:
    """The page's main content (the header differs per response: nonce, token, path)."""
    return re.search(r"<main.*</main>", response.content.decode(), re.S).group(0)  # type: ignore[union-attr]


def _urls(plan):
    return [
        reverse("plans:plan_detail", args=[plan.pk]),
        reverse("plans:plan_edit", args=[plan.pk]),
        reverse("plans:follow_up", args=[plan.pk]),
        reverse("plans:version_list", args=[plan.pk]),
        reverse("plans:version_detail", args=[plan.pk, 1]),
        reverse("plans:participants", args=[plan.pk]),
        reverse("plans:meeting_new", args=[plan.pk]),
    ]


@pytest.mark.parametrize("who", ["outsider", "school_counsellor", "coordinator"])
def test_a_unit_the_sip_consent_does_not_cover_gets_a_404_like_a_missing_plan(cast, as_user, who):
    plan = started(cast, sectors=[Sector.SOCIAL_SERVICES])
    save(cast, plan)
    client = english(as_user(getattr(cast, who)))
    missing = client.get(reverse("plans:plan_detail", args=[plan.pk + 1000]))
    for url in _urls(plan):
        response = client.get(url)
        assert response.status_code == 404, url
        assert _page(response) == _page(missing)
    denied = AccessEvent.objects.filter(
        action=Action.VIEW_PLAN, actor_id=getattr(cast, who).pk, allowed=False
    )
    assert denied.count() == len(_urls(plan)) + 1
    assert denied.filter(basis_reference=f"plan:{plan.pk}").count() == len(_urls(plan))


def test_a_write_to_a_plan_out_of_scope_is_a_404_and_changes_nothing(cast, as_user):
    plan = started(cast, sectors=[Sector.SOCIAL_SERVICES])
    nurse_part = plan.participants.get()
    client = english(as_user(cast.outsider))
    for url in (
        reverse("plans:participant_remove", args=[plan.pk, nurse_part.pk]),
        reverse("plans:participants", args=[plan.pk]),
    ):
        assert client.post(url, {"kind": "child"}).status_code == 404
    nurse_part.refresh_from_db()
    assert nurse_part.removed_at is None
    assert plan.participants.count() == 1


def test_every_view_is_logged_with_its_basis_and_consent(cast, as_user):
    plan = started(cast, sectors=[Sector.SOCIAL_SERVICES])
    english(as_user(cast.family_therapist)).get(reverse("plans:plan_detail", args=[plan.pk]))
    english(as_user(cast.nurse)).get(reverse("plans:plan_detail", args=[plan.pk]))
    therapist, nurse = AccessEvent.objects.filter(action=Action.VIEW_PLAN).order_by("seq")
    assert (therapist.basis, therapist.basis_reference, therapist.unit_id) == (
        Basis.CONSENT,
        f"consent:{plan.consent_id}",
        cast.social.pk,
    )
    assert (nurse.basis, nurse.unit_id, nurse.child_id) == (
        Basis.OWN_UNIT,
        cast.bvc.pk,
        plan.child_id,
    )


def test_after_the_sip_consent_is_withdrawn_other_sectors_lose_access_at_once(cast, as_user):
    child = family(cast)
    consent = sip_consent(cast, child, sectors=[Sector.SOCIAL_SERVICES])
    plan = started(cast, child)
    with_therapist(cast, plan)
    save(cast, plan)
    url = reverse("plans:plan_detail", args=[plan.pk])
    therapist = english(as_user(cast.family_therapist))
    assert therapist.get(url).status_code == 200
    consent_withdraw(
        request=request_as(cast.nurse), consent=consent, guardian=child.custodies.first().guardian
    )
    assert therapist.get(url).status_code == 404
    assert english(as_user(cast.nurse)).get(url).status_code == 200
    with pytest.raises(PlanError, match="may not change"):
        save(cast, plan, by=cast.family_therapist)


def test_the_plan_page_never_shows_the_childs_address(cast, as_user):
    plan = started(cast)
    save(cast, plan)
    for who in (cast.nurse, cast.family_therapist):
        body = english(as_user(who)).get(reverse("plans:plan_detail", args=[plan.pk])).content
        assert b"Hemliga gatan" not in body


def test_only_participants_of_this_plan_are_changed(cast):
    plan = started(cast)
    other = started(cast)
    stranger = other.participants.get()
    with pytest.raises(PlanError):
        services.plan_participant_remove(
            request=request_as(cast.nurse), plan=plan, participant=stranger
        )
    assert PlanParticipant.objects.filter(removed_at__isnull=False).count() == 0
