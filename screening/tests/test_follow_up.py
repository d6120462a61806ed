"""The nurse's follow-up of a guardian's answers, and the suggested support."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent
from audit.models import Action as AuditAction
from cases.models import AgeBand, Concern, Referral
from conftest import request_as
from consent.policy import Purpose
from directory.models import Sector, Service
from directory.queries import suggest_services
from screening.models import Domain, FollowUp
from screening.services import ScreeningError, follow_up_record
from tests import factories

from .test_results import english_clients, in_the_afternoon, screened_family

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _afternoon():
    yield from in_the_afternoon()


@pytest.fixture
def login(as_user):
    return english_clients(as_user)


@pytest.fixture
def screened(cast):
    return screened_family(cast)


def _service(cast, name, *, domains, languages, municipality=None, active=True):
    provider = (
        cast.social
        if municipality is None
        else factories.unit(f"Enhet för {name}", Sector.SOCIAL_SERVICES, municipality)
    )
    return Service.objects.create(
        name=name,
        kind=Service.Kind.FAMILY_THERAPY,
        provider=provider,
        municipality=provider.municipality,
        domains=domains,
        languages=languages,
        active=active,
    )


def _referral(cast, child) -> Referral:
    consent = factories.consent(
        child, cast.nurse, Purpose.REFERRAL, service=cast.child_psychologist
    )
    concern = Concern.objects.create(
        created_by=cast.nurse,
        unit=cast.bvc,
        sector=Sector.CHILD_HEALTH,
        age_band=AgeBand.of(child.birth_date),
        worry="Oro efter BarnSäkert.",
        child=child,
        identified_at=timezone.now(),
        identified_by=cast.nurse,
        contact_person=cast.nurse,
    )
    return Referral.objects.create(
        concern=concern,
        child=child,
        service=cast.child_psychologist,
        consent=consent,
        created_by=cast.nurse,
        unit=cast.bvc,
        sent_at=timezone.now(),
    )


def follow_up_url(response) -> str:
    return reverse("screening:follow_up", args=[response.pk])


def test_the_nurse_documents_the_conversation_offer_answer_and_referral(cast, login, screened):
    child, _mother, _father, _found, latest = screened
    referral = _referral(cast, child)
    talks = _service(cast, "Stödsamtal", domains=[Domain.VIOLENCE], languages=["sv"])
    posted = login(cast.nurse).post(
        follow_up_url(latest[0]),
        {
            "conversation": "Vi talade om tryggheten hemma.",
            "summary": "Erbjuden stödsamtal, tackade ja.",
            "offered": [talks.pk, cast.budget_counselling.pk],
            "reply": "accepted",
            "referral": referral.pk,
        },
    )
    assert posted.status_code == 302
    assert posted.url == reverse("screening:child_results", args=[child.pk])
    follow_up = FollowUp.objects.get()
    assert (follow_up.response, follow_up.unit, follow_up.written_by) == (
        latest[0],
        cast.bvc,
        cast.nurse,
    )
    assert set(follow_up.offered.all()) == {talks, cast.budget_counselling}
    assert (follow_up.reply, follow_up.referral) == ("accepted", referral)
    event = AccessEvent.objects.filter(action=AuditAction.SCREENING_FOLLOW_UP).get()
    assert (event.actor_username, event.child_id, event.basis) == ("nurse", child.pk, "own_unit")


def test_an_offer_needs_the_guardians_answer_and_nothing_is_saved_without_it(cast, login, screened):
    *_, latest = screened
    response = login(cast.nurse).post(
        follow_up_url(latest[0]),
        {"conversation": "Samtal.", "offered": [cast.budget_counselling.pk], "reply": ""},
    )
    assert response.status_code == 200
    assert "Record the guardian&#x27;s answer to the support offered." in response.content.decode()
    assert not FollowUp.objects.exists()


def test_another_childs_referral_cannot_be_chosen(cast, login, screened):
    *_, latest = screened
    other = factories.child(bvc=cast.bvc)
    factories.guardian_of(other)
    referral = _referral(cast, other)
    response = login(cast.nurse).post(
        follow_up_url(latest[0]), {"conversation": "Samtal.", "referral": referral.pk}
    )
    assert response.status_code == 200 and response.context["form"].errors["referral"]
    assert not FollowUp.objects.exists()


def test_only_the_childs_own_bvc_writes_a_follow_up(cast, login, screened):
    child, *_, latest = screened
    factories.consent(
        child, cast.nurse, Purpose.INFORMATION_EXCHANGE, sectors=[Sector.SOCIAL_SERVICES]
    )
    for user in (cast.outsider, cast.family_therapist):
        assert login(user).get(follow_up_url(latest[0])).status_code == 404
        with pytest.raises(ScreeningError):
            follow_up_record(request=request_as(user), response=latest[0], conversation="x")
    missing = login(cast.nurse).get(reverse("screening:follow_up", args=[latest[0].pk + 99]))
    assert missing.status_code == 404
    assert not FollowUp.objects.exists()


def test_the_follow_up_page_shows_only_this_guardians_answers(cast, login, screened):
    """Mother: items 1 and 6 positive, 2 unanswered. Father: item 3 positive."""
    *_, latest = screened
    body = login(cast.nurse).get(follow_up_url(latest[0])).content.decode()
    assert "Vägledning 1" in body and "Vägledning 6" in body and "[sv] Fråga 2?" in body
    assert "Vägledning 3" not in body and "[sv] Fråga 3?" not in body
    father = login(cast.nurse).get(follow_up_url(latest[1])).content.decode()
    assert "Vägledning 3" in father and "Vägledning 1" not in father


def test_suggestions_match_domains_municipality_and_language_and_are_ranked(cast):
    home = cast.social.municipality
    away = factories.organisation("Sjöstad kommun")
    both = _service(
        cast, "Båda domänerna", domains=[Domain.VIOLENCE, Domain.LOW_MOOD], languages=["sv"]
    )
    arabic = _service(cast, "Arabisktalande", domains=[Domain.VIOLENCE], languages=["sv", "ar"])
    swedish = _service(cast, "Svensktalande", domains=[Domain.VIOLENCE], languages=["sv"])
    unlisted = _service(cast, "Utan språk", domains=[Domain.LOW_MOOD], languages=[])
    _service(cast, "Bara engelska", domains=[Domain.VIOLENCE], languages=["en"])
    _service(cast, "Fel domän", domains=[Domain.ECONOMIC_WORRY], languages=["sv", "ar"])
    _service(cast, "Annan kommun", domains=[Domain.VIOLENCE], languages=["ar"], municipality=away)
    _service(cast, "Nedlagd", domains=[Domain.VIOLENCE], languages=["ar"], active=False)
    found = suggest_services([Domain.VIOLENCE, Domain.LOW_MOOD], home, "ar")
    assert [s.name for s in found] == [both.name, arabic.name, swedish.name, unlisted.name]
    assert suggest_services([], home, "ar") == []
    # One domain in common each, and all speak Swedish: by name.
    assert [s.name for s in suggest_services([Domain.VIOLENCE], home, "sv")] == [
        arabic.name,
        both.name,
        swedish.name,
    ]


def test_the_follow_up_form_puts_the_guardians_suggestions_first(cast, login, screened):
    _child, mother, *_rest, latest = screened
    mother.preferred_language = "ar"
    mother.save()
    swedish = _service(cast, "A Svensktalande", domains=[Domain.VIOLENCE], languages=["sv"])
    arabic = _service(cast, "B Arabisktalande", domains=[Domain.CHILD_SAFETY], languages=["ar"])
    response = login(cast.nurse).get(follow_up_url(latest[0]))
    assert response.context["suggested"] == [arabic, swedish]
    choices = [service for service in response.context["form"].fields["offered"].queryset]
    assert choices[:2] == [arabic, swedish]
    assert cast.budget_counselling in choices
    assert response.content.decode().count("tag-suggested") == 2
