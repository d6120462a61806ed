"""Who reaches a family's home visits: the BVC that holds the enrolment; the programme's
social services only while the family's consent is in force (and not a moment after it is
withdrawn); anyone else gets the 404 of a missing page, and the attempt is logged."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from audit.models import AccessEvent, Action
from conftest import request_as
from consent import policy
from consent.services import consent_withdraw
from tests import factories
from visits.models import Enrolment
from visits.services import enrolment_accept

from . import core_fixtures as fx
from .core_fixtures import offered

pytestmark = pytest.mark.django_db
frozen, programme, baby, enrolment, first_visit = (
    fx.frozen,
    fx.programme,
    fx.baby,
    fx.enrolment,
    fx.first_visit,
)


def page(response, url: str) -> str:
    """The page without what differs per path and per render (the CSRF mask)."""
    body = response.content.decode().replace(url, "PATH")
    return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "CSRF", body)


def family_urls(enrolment: Enrolment) -> list[str]:
    visit = enrolment.visits.order_by("due_date").first()
    assert visit is not None, "an accepted enrolment has its visits"
    return [
        reverse("visits:enrolment", args=[enrolment.pk]),
        reverse("visits:book", args=[visit.pk]),
        reverse("visits:document", args=[visit.pk]),
    ]


@pytest.mark.parametrize("who", ["outsider", "special_educator", "school_counsellor"])
def test_an_outsider_gets_a_404_like_a_missing_page_and_the_attempt_is_logged(
    cast, enrolment, as_user, who
):
    client = as_user(getattr(cast, who))
    missing_url = reverse("visits:enrolment", args=[999999])
    missing = page(client.get(missing_url), missing_url)

    for url in family_urls(enrolment):
        response = client.get(url)
        assert response.status_code == 404
        assert page(response, url) == missing
    assert client.post(family_urls(enrolment)[1], {"date": "2026-03-04"}).status_code == 404
    denied = AccessEvent.objects.filter(actor_username=getattr(cast, who).username, allowed=False)
    assert denied.filter(child_id=enrolment.child_id).count() == 4
    assert denied.filter(action=Action.VIEW_VISITS, child_id=None).count() == 1  # the missing one


def test_the_offer_page_is_for_the_childs_own_bvc_only(cast, programme, baby, as_user):
    for who in ("outsider", "family_therapist"):
        response = as_user(getattr(cast, who)).get(reverse("visits:offer", args=[baby.pk]))
        assert response.status_code == 404
    assert AccessEvent.objects.filter(child_id=baby.pk, allowed=False).count() == 2
    assert as_user(cast.nurse).get(reverse("visits:offer", args=[baby.pk])).status_code == 200


def test_the_therapist_sees_the_family_only_after_acceptance(cast, programme, baby, as_user):
    enrolment = offered(cast, baby, programme)
    url = reverse("visits:enrolment", args=[enrolment.pk])
    client = as_user(cast.family_therapist)
    assert client.get(url).status_code == 404

    enrolment_accept(request=request_as(cast.nurse), enrolment=enrolment, givings=fx.givings(baby))

    assert client.get(url).status_code == 200
    event = AccessEvent.objects.filter(action=Action.VIEW_VISITS, allowed=True).latest("seq")
    assert (event.basis, event.basis_reference) == (
        "consent",
        f"consent:{Enrolment.objects.get().consent_id}",
    )


def test_the_therapist_loses_the_family_at_once_when_the_consent_is_withdrawn(
    cast, enrolment, as_user
):
    client = as_user(cast.family_therapist)
    urls = family_urls(enrolment)
    assert all(client.get(url).status_code == 200 for url in urls)
    assert client.get(reverse("visits:worklist")).context["rows"]

    guardian = enrolment.consent.givings.first().guardian
    consent_withdraw(request=request_as(cast.nurse), consent=enrolment.consent, guardian=guardian)

    assert all(client.get(url).status_code == 404 for url in urls)
    assert client.get(reverse("visits:worklist")).context["rows"] == []
    # The BVC keeps its own family.
    assert as_user(cast.nurse).get(urls[0]).status_code == 200


def test_only_the_bvc_records_the_familys_answer(cast, programme, baby, as_user):
    enrolment = offered(cast, baby, programme)
    for name in ("visits:accept", "visits:decline"):
        assert as_user(cast.outsider).get(reverse(name, args=[enrolment.pk])).status_code == 404
    assert Enrolment.objects.get().status == Enrolment.Status.OFFERED


def test_a_therapist_of_another_social_services_unit_does_not_reach_the_family(
    cast, enrolment, as_user
):
    elsewhere = factories.unit("Socialtjänsten Sjöstad", "social_services")
    stranger = factories.professional("stranger", units=[elsewhere], profession="family_therapist")

    for url in family_urls(enrolment):
        assert as_user(stranger).get(url).status_code == 404
    assert as_user(stranger).get(reverse("visits:worklist")).context["rows"] == []


def test_the_child_page_offers_the_programme_then_links_the_enrolment(
    cast, programme, baby, as_user
):
    client = as_user(cast.nurse)
    child_page = reverse("families:child_detail", args=[baby.pk])
    assert reverse("visits:offer", args=[baby.pk]) in client.get(child_page).content.decode()

    enrolment = offered(cast, baby, programme)

    text = client.get(child_page).content.decode()
    assert reverse("visits:offer", args=[baby.pk]) not in text
    assert reverse("visits:enrolment", args=[enrolment.pk]) in text


def test_the_child_page_of_an_ineligible_child_offers_nothing(cast, programme, as_user):
    elsewhere = fx.newborn(cast, postal_code="99240")

    text = as_user(cast.nurse).get(reverse("families:child_detail", args=[elsewhere.pk]))

    assert reverse("visits:offer", args=[elsewhere.pk]) not in text.content.decode()


def test_anonymous_visitors_are_sent_to_the_login(client, enrolment):
    for url in [reverse("visits:worklist"), *family_urls(enrolment)]:
        response = client.get(url)
        assert response.status_code == 302
        assert "/konto/logga-in/" in response["Location"]


def test_decide_enrolment_agrees_with_visible_enrolments_for_everyone(cast, programme):
    families = [
        offered(cast, fx.newborn(cast), programme),
        fx.accepted(cast, fx.newborn(cast), programme),
    ]
    withdrawn = fx.accepted(cast, fx.newborn(cast), programme)
    consent_withdraw(
        request=request_as(cast.nurse),
        consent=withdrawn.consent,
        guardian=withdrawn.consent.givings.first().guardian,
    )
    families.append(Enrolment.objects.get(pk=withdrawn.pk))
    users = [
        cast.nurse,
        cast.manager,
        cast.family_therapist,
        cast.special_educator,
        cast.coordinator,
        cast.outsider,
    ]

    for user in users:
        visible = set(policy.visible_enrolments(user).values_list("pk", flat=True))
        for family in families:
            assert policy.decide_enrolment(user, family).allowed == (family.pk in visible), (
                user.username,
                family.status,
            )
    therapist_sees = set(
        policy.visible_enrolments(cast.family_therapist).values_list("pk", flat=True)
    )
    assert therapist_sees == {families[1].pk}
