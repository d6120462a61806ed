"""The core of BarnSäkert: starting a screening, one-time codes, idempotent submission."""

import datetime

import pytest
import time_machine

from conftest import request_as
from screening.models import Answer, Response
from screening.services import (
    ScreeningError,
    SubmissionConflict,
    occasions_for,
    response_submit,
    screening_start,
    session_for_code,
)
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(cast):
    region = factories.region_of_unit(cast.bvc)
    child = factories.child(bvc=cast.bvc)
    mother, father = factories.guardian_of(child), factories.guardian_of(child)
    version = factories.questionnaire()
    return child, mother, father, occasions_for(region)[0], version


def test_the_six_default_occasions(cast):
    region = factories.region_of_unit(cast.bvc)
    names = [o.name_en for o in occasions_for(region)]
    assert names == ["6–8 weeks", "4 months", "10 months", "18 months", "2.5 years", "4 years"]


def test_each_guardian_gets_a_one_time_code(cast, family):
    child, mother, father, occasion, _ = family
    _, codes = screening_start(
        request=request_as(cast.nurse), child=child, occasion=occasion, guardians=[mother, father]
    )
    assert set(codes) == {mother.pk, father.pk} and codes[mother.pk] != codes[father.pk]
    session = session_for_code(codes[mother.pk].lower().replace("-", " "))
    assert session is not None and session.guardian == mother
    assert session_for_code("AAAA-AAAA") is None


def test_only_the_childs_own_bvc_starts_a_screening(cast, family):
    child, mother, _, occasion, _ = family
    for user in (cast.outsider, cast.family_therapist, cast.special_educator):
        with pytest.raises(ScreeningError):
            screening_start(
                request=request_as(user), child=child, occasion=occasion, guardians=[mother]
            )


def test_a_code_expires_after_30_minutes(cast, family):
    child, mother, _, occasion, _ = family
    _, codes = screening_start(
        request=request_as(cast.nurse), child=child, occasion=occasion, guardians=[mother]
    )
    with time_machine.travel(datetime.timedelta(minutes=31)):
        assert session_for_code(codes[mother.pk]) is None


def test_a_retried_submit_stores_one_response_and_a_used_code_is_dead(cast, family):
    child, mother, _, occasion, version = family
    _, codes = screening_start(
        request=request_as(cast.nurse), child=child, occasion=occasion, guardians=[mother]
    )
    session = session_for_code(codes[mother.pk])
    answers = {1: "yes", 2: "yes", 3: ""}
    first = response_submit(session=session, language="ar", answers=answers, idempotency_key="k1")
    again = response_submit(session=session, language="ar", answers=answers, idempotency_key="k1")
    assert first.pk == again.pk and Response.objects.count() == 1
    # The regional statistics find a response by its unit: the screening's, copied.
    assert Response.objects.get().unit == child.bvc_unit == cast.bvc
    with pytest.raises(SubmissionConflict):
        response_submit(session=session, language="ar", answers={1: "no"}, idempotency_key="k1")
    with pytest.raises(ScreeningError):
        response_submit(session=session, language="ar", answers=answers, idempotency_key="k2")
    assert session_for_code(codes[mother.pk]) is None
    scored = {a.item.number: (a.option, a.positive) for a in Answer.objects.filter(response=first)}
    assert scored[1] == ("yes", True) and scored[2] == ("yes", False) and scored[3] == ("", False)
    assert len(scored) == version.items.count()  # unanswered items are kept as unanswered


def test_answers_outside_the_questionnaire_are_refused(cast, family):
    child, mother, _, occasion, _ = family
    _, codes = screening_start(
        request=request_as(cast.nurse), child=child, occasion=occasion, guardians=[mother]
    )
    session = session_for_code(codes[mother.pk])
    for answers in ({99: "yes"}, {1: "maybe"}):
        with pytest.raises(ScreeningError):
            response_submit(
                session=session,
                language="sv",
                answers=answers,
                idempotency_key=f"bad-{answers}",
            )
    assert not Response.objects.exists()


def test_an_opened_code_cannot_be_entered_again_but_the_guardian_may_take_their_time(cast, family):
    from screening.services import kiosk_session_open

    child, mother, _, occasion, _ = family
    _, codes = screening_start(
        request=request_as(cast.nurse), child=child, occasion=occasion, guardians=[mother]
    )
    opened = kiosk_session_open(code=codes[mother.pk], client_ip="127.0.0.1")
    assert opened is not None
    assert kiosk_session_open(code=codes[mother.pk], client_ip="127.0.0.1") is None
    with time_machine.travel(datetime.timedelta(minutes=50)):  # past the code's 30 minutes
        response = response_submit(
            session=opened, language="sv", answers={1: "no"}, idempotency_key="slow"
        )
    assert response.pk
