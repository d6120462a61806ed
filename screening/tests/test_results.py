"""The child's BarnSäkert results: the nurse's family overview, and what other sectors may see.

Helpers shared by the nurse-side tests (worklist, follow-up, slots, statistics) live here too.
"""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AccessEvent
from audit.models import Action as AuditAction
from conftest import request_as
from consent.models import Consent
from consent.policy import Purpose
from directory.models import Sector
from families.models import Child, Custody, Guardian
from screening.models import FollowUp, Response
from screening.queries import screening_access
from screening.services import (
    occasions_for,
    response_submit,
    screening_start,
    session_for_code,
)
from tests import factories

pytestmark = pytest.mark.django_db

# `factories.consent` makes a consent effective at 12:00 UTC on the day it is recorded: the
# tests run in the afternoon.
AFTERNOON = datetime.datetime(2026, 3, 10, 14, 0, tzinfo=datetime.UTC)
TODAY = AFTERNOON.date()


def in_the_afternoon():
    """The other modules' autouse fixture: `yield from in_the_afternoon()`."""
    with time_machine.travel(AFTERNOON, tick=True) as traveller:
        yield traveller


def english_clients(as_user):
    """Logged-in clients that read the English msgids (Swedish may arrive later)."""

    def client_for(user):
        client = as_user(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return client_for


@pytest.fixture(autouse=True)
def _afternoon():
    yield from in_the_afternoon()


@pytest.fixture
def login(as_user):
    return english_clients(as_user)


def born_days_ago(days: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=days)


def family_of(unit, *, age_days: int = 200, **extra):
    """A child of `unit`, born `age_days` ago, with a mother and a father in joint custody."""
    child = factories.child(bvc=unit, birth=born_days_ago(age_days), **extra)
    mother, father = factories.guardian_of(child), factories.guardian_of(child)
    Custody.objects.filter(guardian=mother).update(relation=Custody.Relation.MOTHER)
    Custody.objects.filter(guardian=father).update(relation=Custody.Relation.FATHER)
    return child, mother, father


def answer(
    nurse,
    child: Child,
    occasion,
    answers: dict[Guardian, dict[int, str]],
    *,
    days_ago: int = 0,
) -> list[Response]:
    """Each guardian answers at `occasion`, `days_ago` days before today, through the
    services as at the BVC: the nurse starts the screening, each guardian submits."""
    moment = AFTERNOON - datetime.timedelta(days=days_ago)
    with time_machine.travel(moment, tick=False):
        screening, codes = screening_start(
            request=request_as(nurse), child=child, occasion=occasion, guardians=list(answers)
        )
        responses = []
        for guardian, given in answers.items():
            session = session_for_code(codes[guardian.pk])
            assert session is not None, "the code just given opens no session"
            responses.append(
                response_submit(
                    session=session,
                    language="sv",
                    answers=given,
                    idempotency_key=f"s{screening.pk}-g{guardian.pk}",
                )
            )
    return responses


def occasions(unit):
    return occasions_for(factories.region_of_unit(unit))


def consent_to(child: Child, recorder, sector: str, *, answers: bool = False) -> Consent:
    """An effective information-exchange consent naming `sector`; with `answers` it also
    explicitly includes the guardians' screening answers (the consent service cannot record
    that yet, so it is set on the row)."""
    consent = factories.consent(child, recorder, Purpose.INFORMATION_EXCHANGE, sectors=[sector])
    if answers:
        Consent.objects.filter(pk=consent.pk).update(includes_screening_answers=True)
    return consent


@pytest.fixture
def screened(cast):
    return screened_family(cast)


def screened_family(cast):
    """A child whose mother answered at 4 months and at 10 months, and whose father answered at
    10 months only. Items (test questionnaire): 1 child safety, 2 economic worry, 3 low mood,
    4 parental stress, 5 substance use, 6 violence; odd items positive on yes, even on no."""
    factories.questionnaire()
    found = occasions(cast.bvc)
    child, mother, father = family_of(cast.bvc, age_days=300)
    answer(
        cast.nurse, child, found[1], {mother: {1: "no", 2: "no", 3: "no", 4: "yes"}}, days_ago=160
    )
    latest = answer(
        cast.nurse,
        child,
        found[2],
        {
            mother: {1: "yes", 2: "", 3: "no", 4: "yes", 5: "no", 6: "no"},
            father: {1: "no", 2: "yes", 3: "yes", 4: "yes", 5: "no", 6: "yes"},
        },
    )
    return child, mother, father, found, latest


def results_url(child: Child) -> str:
    return reverse("screening:child_results", args=[child.pk])


def test_the_nurse_sees_each_guardian_side_by_side(cast, login, screened):
    child, mother, father, _found, _ = screened
    response = login(cast.nurse).get(results_url(child))
    assert response.status_code == 200
    overview = response.context["overview"]
    by_name = {g.guardian.pk: g for g in overview.guardians}
    mum, dad = by_name[mother.pk], by_name[father.pk]
    assert [g.guardian.pk for g in overview.guardians] == [mother.pk, father.pk]
    # Positive now: the mother's items 1 (yes) and 6 (no); the father's item 3 (yes).
    assert mum.positive_now == ["Child safety", "Violence now or earlier"]
    assert dad.positive_now == ["Low mood"]
    # The same domains at the earlier occasions: mother answered at 4 and 10 months.
    safety = next(row for row in mum.history if row.domain == "Child safety")
    assert safety.cells[:4] == ["none", "negative", "positive", "none"]
    stress = next(row for row in mum.history if row.domain == "Parental stress")
    assert stress.cells[1:3] == ["negative", "negative"]  # item 4 is positive on "no"
    assert next(row for row in dad.history if row.domain == "Low mood").cells[1:3] == [
        "none",
        "positive",
    ]
    # Unanswered at the latest occasion, with the Swedish question text.
    assert [(i.number, i.text) for i in mum.unanswered] == [(2, "[sv] Fråga 2?")]
    assert dad.unanswered == []
    # Guidance for the positive items.
    assert [(i.number, i.guidance) for i in mum.positive_items] == [
        (1, "Vägledning 1"),
        (6, "Vägledning 6"),
    ]
    body = response.content.decode()
    assert body.count('class="guardian-column"') == 2
    assert "Vägledning 1" in body and "[sv] Fråga 2?" in body
    event = AccessEvent.objects.filter(action=AuditAction.VIEW_SCREENING).get()
    assert (event.actor_username, event.child_id, event.basis, event.allowed) == (
        "nurse",
        child.pk,
        "own_unit",
        True,
    )


def test_the_chart_is_an_accessible_inline_svg_with_the_table_as_its_text(cast, login, screened):
    child, *_ = screened
    body = login(cast.nurse).get(results_url(child)).content.decode()
    svg = body.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in svg and 'aria-labelledby="chart-title-1 chart-desc-1"' in svg
    assert '<title id="chart-title-1">' in svg and '<desc id="chart-desc-1">' in svg
    assert "style=" not in body.split("<main", 1)[1]  # strict CSP: no inline styles
    assert "<script" not in body
    table = body.split('id="history-1"', 1)[1].split("</table>", 1)[0]
    assert table.count('scope="row"') == 6 and "positive" in table


def test_another_bvcs_nurse_gets_a_404_like_a_missing_child_and_it_is_logged(cast, login, screened):
    child, *_ = screened
    client = login(cast.outsider)
    other_url, missing_url = (
        results_url(child),
        results_url(child).replace(f"/{child.pk}/", f"/{child.pk + 1000}/"),
    )
    other, missing = client.get(other_url), client.get(missing_url)
    assert other.status_code == missing.status_code == 404

    def page(response, url):
        # The same page, but for the path (the language switch returns to it) and the CSRF mask.
        body = response.content.decode().replace(url, "PATH")
        return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "CSRF", body)

    assert page(other, other_url) == page(missing, missing_url)
    events = AccessEvent.objects.filter(actor_username="outsider")
    assert [(e.child_id, e.allowed) for e in events] == [
        (child.pk, False),
        (child.pk + 1000, False),
    ]


def test_other_sectors_see_nothing_without_a_consent(cast, login, screened):
    child, *_ = screened
    # The preschool is one of the child's own units, and a report of concern reaches social
    # services: neither is a consent to share health-care records.
    Child.objects.filter(pk=child.pk).update(school_unit=cast.preschool)
    assert login(cast.special_educator).get(results_url(child)).status_code == 404
    assert login(cast.family_therapist).get(results_url(child)).status_code == 404
    assert screening_access(cast.special_educator, child).level == "none"


def _follow_up(cast, response: Response) -> FollowUp:
    follow_up = FollowUp.objects.create(
        response=response,
        unit=cast.bvc,
        written_by=cast.nurse,
        conversation="Talade länge om oron hemma (stays in the record).",
        summary="Mamman vill ha stödsamtal.",
        reply=FollowUp.Reply.ACCEPTED,
    )
    follow_up.offered.set([cast.budget_counselling])
    return follow_up


def test_with_an_ordinary_consent_the_family_therapist_sees_summaries_and_offers_only(
    cast, login, screened
):
    child, _mother, _father, _found, latest = screened
    _follow_up(cast, latest[0])
    consent = consent_to(child, cast.nurse, Sector.SOCIAL_SERVICES)
    response = login(cast.family_therapist).get(results_url(child))
    assert response.status_code == 200
    assert response.context["overview"] is None
    body = response.content.decode()
    assert "Mamman vill ha stödsamtal." in body and "Budget- och skuldrådgivning" in body
    assert "Accepted" in body
    for secret in ("Fråga", "Vägledning", "stays in the record", "Family overview", "Low mood"):
        assert secret not in body, secret
    event = AccessEvent.objects.filter(
        action=AuditAction.VIEW_SCREENING, actor_username="therapist"
    ).get()
    assert (event.basis, event.basis_reference) == ("consent", f"consent:{consent.pk}")


def test_with_a_consent_including_the_answers_the_family_therapist_sees_them(cast, login, screened):
    child, mother, father, _found, latest = screened
    _follow_up(cast, latest[0])
    consent_to(child, cast.nurse, Sector.SOCIAL_SERVICES)  # an ordinary one as well
    strong = consent_to(child, cast.nurse, Sector.SOCIAL_SERVICES, answers=True)
    response = login(cast.family_therapist).get(results_url(child))
    assert response.status_code == 200
    overview = response.context["overview"]
    assert {g.guardian.pk for g in overview.guardians} == {mother.pk, father.pk}
    body = response.content.decode()
    assert "[sv] Fråga 2?" in body and "Low mood" in body
    # The nurse's own working material stays with the nurse.
    assert "Vägledning" not in body and "stays in the record" not in body
    assert reverse("screening:follow_up", args=[latest[0].pk]) not in body
    event = AccessEvent.objects.filter(actor_username="therapist").get()
    assert event.basis_reference == f"consent:{strong.pk}"


def test_a_withdrawn_consent_hides_the_summaries_at_once(cast, login, screened):
    child, _m, _f, _found, latest = screened
    _follow_up(cast, latest[0])
    factories.consent(
        child,
        cast.nurse,
        Purpose.INFORMATION_EXCHANGE,
        sectors=[Sector.SOCIAL_SERVICES],
        state="withdrawn",
    )
    assert login(cast.family_therapist).get(results_url(child)).status_code == 404


def test_the_results_page_runs_the_same_number_of_queries_for_few_and_many_responses(cast, login):
    factories.questionnaire()
    found = occasions(cast.bvc)
    child, mother, father = family_of(cast.bvc, age_days=1500)
    client = login(cast.nurse)
    answer(cast.nurse, child, found[0], {mother: {1: "yes", 2: ""}}, days_ago=1440)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(results_url(child)).status_code == 200
        return len(captured)

    few = count()
    for i, occasion in enumerate(found[1:], start=1):
        answer(
            cast.nurse,
            child,
            occasion,
            {mother: {1: "yes", 2: ""}, father: {3: "yes", 6: "yes"}},
            days_ago=1440 - 200 * i,
        )
    assert count() == few
    overview = client.get(results_url(child)).context["overview"]
    assert sum(len(g.responses) for g in overview.guardians) == 11


def test_the_child_page_links_to_the_results_for_the_bvc_only(cast, login, screened):
    child, *_ = screened
    Child.objects.filter(pk=child.pk).update(school_unit=cast.preschool)
    link = results_url(child)
    assert (
        link
        in login(cast.nurse).get(reverse("families:child_detail", args=[child.pk])).content.decode()
    )
    educator = login(cast.special_educator).get(reverse("families:child_detail", args=[child.pk]))
    assert educator.status_code == 200 and link not in educator.content.decode()


def test_the_consent_form_records_an_explicit_choice_to_share_screening_answers(cast, as_user):
    from django.urls import reverse

    from consent.models import Consent

    child = factories.child(bvc=cast.bvc)
    factories.guardian_of(child)
    response = as_user(cast.nurse).post(
        reverse("consent:record", args=[child.pk]),
        {
            "purpose": "information_exchange",
            "sectors": ["social_services"],
            "includes_screening_answers": "on",
            "lang": "sv",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Consent.objects.get(child=child).includes_screening_answers
