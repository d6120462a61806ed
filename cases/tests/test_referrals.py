"""Referrals: sent under a referral consent naming the service, moved on step by step with
timestamps, withdrawn with the consent; and the team's lead times, with small cells hidden."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent
from audit.models import Action as AuditAction
from cases.models import Concern, Referral
from cases.queries import team_lead_times
from conftest import request_as
from consent.policy import Purpose
from consent.services import consent_withdraw, custodial_guardians
from tests import factories

from .conftest import child_with_guardians, make_concern

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(cast):
    child = child_with_guardians(bvc=cast.bvc)
    return make_concern(cast.nurse, cast.bvc, child=child, team=cast.bht_team)


def referral_consent(cast, child, service, state="effective"):
    return factories.consent(child, cast.nurse, Purpose.REFERRAL, service=service, state=state)


def _send(client, case, service, consent=None):
    data = {"service": service.pk, "note": "Sleep problems since the summer."}
    if consent is not None:
        data["consent"] = consent.pk
    return client.post(reverse("cases:referral_new", args=[case.pk]), data)


def test_a_referral_needs_a_consent_naming_the_service(cast, login, case):
    other_service = referral_consent(cast, case.child, cast.budget_counselling)
    client = login(cast.nurse)

    wrong = _send(client, case, cast.child_psychologist, other_service)
    assert wrong.status_code == 200
    assert "names another service" in str(wrong.context["form"].errors)

    missing = _send(client, case, cast.child_psychologist)
    assert missing.context["form"].errors["consent"]
    assert Referral.objects.count() == 0


@pytest.mark.parametrize("state", ["none", "one_of_two", "withdrawn", "expired"])
def test_a_referral_consent_not_in_force_is_refused(cast, login, case, state):
    consent = referral_consent(cast, case.child, cast.child_psychologist, state=state)
    response = _send(login(cast.nurse), case, cast.child_psychologist, consent)
    assert "not in force" in str(response.context["form"].errors)
    assert Referral.objects.count() == 0


def test_a_referral_under_the_right_consent_is_sent_and_logged(cast, login, case):
    consent = referral_consent(cast, case.child, cast.child_psychologist)
    form = login(cast.nurse).get(reverse("cases:referral_new", args=[case.pk]))
    assert "In force" in form.content.decode()
    response = _send(login(cast.nurse), case, cast.child_psychologist, consent)
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert (referral.service, referral.consent, referral.child, referral.unit) == (
        cast.child_psychologist,
        consent,
        case.child,
        cast.bvc,
    )
    assert referral.status == "Sent" and referral.sent_at is not None
    event = AccessEvent.objects.get(action=AuditAction.REFERRAL_SEND)
    assert (event.child_id, event.purpose) == (case.child_id, Purpose.REFERRAL)


def test_an_anonymous_case_cannot_be_referred(cast, login):
    concern = make_concern(cast.nurse, cast.bvc)
    assert (
        login(cast.nurse).get(reverse("cases:referral_new", args=[concern.pk])).status_code == 404
    )


def test_the_steps_record_their_timestamps_in_order(cast, login, case, _afternoon):
    consent = referral_consent(cast, case.child, cast.child_psychologist)
    _send(login(cast.nurse), case, cast.child_psychologist, consent)
    referral = Referral.objects.get()
    url = reverse("cases:referral_update", args=[referral.pk])
    for step in ["received", "first_contact", "first_contact", "completed"]:
        _afternoon.shift(datetime.timedelta(minutes=10))
        response = login(cast.nurse).post(url, {"step": step})
        assert response.status_code == 302, step
    referral.refresh_from_db()
    assert referral.sent_at < referral.received_at < referral.first_contact_at < referral.closed_at
    # The repeated step did not move the first contact.
    assert referral.closed_at - referral.first_contact_at >= datetime.timedelta(minutes=20)
    assert referral.outcome == Referral.Outcome.COMPLETED
    assert referral.lead_time == referral.first_contact_at - case.created_at
    assert AccessEvent.objects.filter(action=AuditAction.REFERRAL_UPDATE).count() == 4

    page = login(cast.nurse).get(reverse("cases:concern_detail", args=[case.pk]))
    body = page.content.decode()
    assert "Completed" in body and "from the concern to first contact" in body

    closed = login(cast.nurse).post(url, {"step": "declined"})
    assert closed.status_code == 200 and "The referral is closed." in closed.content.decode()
    assert login(cast.nurse).post(url, {"step": "lost"}).status_code == 200


def test_the_receiving_service_records_the_first_contact(cast, login, case):
    consent = referral_consent(cast, case.child, cast.child_psychologist)
    _send(login(cast.nurse), case, cast.child_psychologist, consent)
    referral = Referral.objects.get()
    psychologist = factories.professional(
        "psychologist", units=[cast.psychology], profession="child_health_psychologist"
    )
    response = login(psychologist).post(
        reverse("cases:referral_update", args=[referral.pk]), {"step": "first_contact"}
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.first_contact_at is not None and referral.received_at is not None
    # Someone the consent does not reach cannot touch it.
    assert (
        login(cast.school_counsellor)
        .post(reverse("cases:referral_update", args=[referral.pk]), {"step": "declined"})
        .status_code
        == 404
    )


def test_withdrawing_the_consent_withdraws_open_referrals(cast, login, case):
    consent = referral_consent(cast, case.child, cast.child_psychologist)
    _send(login(cast.nurse), case, cast.child_psychologist, consent)
    referral = Referral.objects.get()
    consent_withdraw(
        request=request_as(cast.nurse), consent=consent, guardian=custodial_guardians(case.child)[0]
    )
    referral.refresh_from_db()
    assert referral.outcome == Referral.Outcome.WITHDRAWN and referral.closed_at is not None
    body = login(cast.nurse).get(reverse("cases:concern_detail", args=[case.pk])).content
    assert b"Withdrawn" in body


# --- Lead times -----------------------------------------------------------------------------


def _referrals(cast, team, service, consent, lead_days, first_contact):
    """Referrals whose first contact falls on `first_contact`, each `lead_days[i]` after its
    concern was recorded."""
    for days in lead_days:
        noticed = first_contact - datetime.timedelta(days=days)
        concern = make_concern(
            cast.nurse, cast.bvc, child=consent.child, team=team, created_at=noticed
        )
        Referral.objects.create(
            concern=concern,
            child=consent.child,
            service=service,
            consent=consent,
            created_by=cast.nurse,
            unit=cast.bvc,
            sent_at=noticed + datetime.timedelta(days=1),
            first_contact_at=first_contact,
        )


def test_the_median_lead_time_per_service_and_quarter_hides_small_cells(cast, login, settings):
    with time_machine.travel(datetime.datetime(2026, 8, 20, 14, tzinfo=datetime.UTC)):
        child = child_with_guardians(bvc=cast.bvc)
        psych = factories.consent(
            child, cast.nurse, Purpose.REFERRAL, service=cast.child_psychologist
        )
        budget = factories.consent(
            child, cast.nurse, Purpose.REFERRAL, service=cast.budget_counselling
        )
        q1 = datetime.datetime(2026, 2, 10, 12, tzinfo=datetime.UTC)
        q2 = datetime.datetime(2026, 5, 10, 12, tzinfo=datetime.UTC)
        _referrals(cast, cast.bht_team, cast.child_psychologist, psych, [10, 20, 30, 40, 90], q1)
        _referrals(cast, cast.bht_team, cast.child_psychologist, psych, [5, 6, 7, 8], q2)
        _referrals(cast, cast.bht_team, cast.budget_counselling, budget, [3, 4, 5, 6, 7, 8], q2)
        # Another team's referral and one still waiting for contact do not count.
        _referrals(cast, cast.hlt_team, cast.child_psychologist, psych, [1] * 5, q1)
        waiting = make_concern(cast.nurse, cast.bvc, child=child, team=cast.bht_team)
        Referral.objects.create(
            concern=waiting,
            child=child,
            service=cast.child_psychologist,
            consent=psych,
            created_by=cast.nurse,
            unit=cast.bvc,
            sent_at=timezone.now(),
        )

        stats = team_lead_times(cast.bht_team)
        assert stats.quarters == ["2026 Q1", "2026 Q2"]
        rows = dict(stats.rows)
        psych_q1, psych_q2 = rows["Barnpsykolog"]
        assert (psych_q1.count, psych_q1.median_days) == (5, 30.0)
        assert psych_q2.suppressed and psych_q2.count == 4
        budget_q1, budget_q2 = rows["Budget- och skuldrådgivning"]
        assert budget_q1 is None and budget_q2.median_days == 5.5

        response = login(cast.coordinator).get(
            reverse("cases:referral_stats", args=[cast.bht_team.pk])
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert "2026 Q1" in body and "<svg" in body and "fewer than 5 referrals" in body
        assert 'role="img"' in body and "style=" not in body and "<script" not in body
        assert body.count('class="chart-bar"') == 2  # the suppressed cell has no bar

        settings.STATISTICS_MIN_CELL = 4  # the limit is the deployment's to set
        psych_q2 = dict(team_lead_times(cast.bht_team).rows)["Barnpsykolog"][1]
        assert (psych_q2.count, psych_q2.median_days) == (4, 6.5)


def test_lead_times_are_for_team_members_only(cast, login):
    url = reverse("cases:referral_stats", args=[cast.bht_team.pk])
    assert login(cast.nurse).get(url).status_code == 200
    assert login(cast.school_counsellor).get(url).status_code == 404
    assert login(cast.outsider).get(url).status_code == 404


def test_a_team_without_referrals_gets_a_plain_message(cast, login):
    response = login(cast.nurse).get(reverse("cases:referral_stats", args=[cast.bht_team.pk]))
    assert "No referral of the team" in response.content.decode()
    assert Concern.objects.count() == 0
