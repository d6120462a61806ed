"""Reports of concern (orosanmälan): made from the child's page without consent, received in
the social services intake's inbox, which then sees the child on that legal basis."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent
from audit.models import Action as AuditAction
from cases.models import ReportOfConcern
from consent import policy
from consent.policy import Basis, Purpose
from tests import factories

pytestmark = pytest.mark.django_db

INBOX = reverse("cases:report_inbox")


def _report(client, child, to_unit, what="Bruises on both arms, says he fell."):
    return client.post(
        reverse("cases:report_new", args=[child.pk]), {"to_unit": to_unit.pk, "what": what}
    )


def test_a_report_of_concern_reaches_the_intake_which_sees_and_acknowledges_it(cast, login):
    child = factories.child(bvc=cast.bvc)
    assert (
        login(cast.family_therapist)
        .get(reverse("families:child_detail", args=[child.pk]))
        .status_code
        == 404
    )

    response = _report(login(cast.nurse), child, cast.social)
    report = ReportOfConcern.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("cases:report_detail", args=[report.pk])
    assert (report.child, report.reporter, report.reporter_unit, report.to_unit) == (
        child,
        cast.nurse,
        cast.bvc,
        cast.social,
    )
    made = AccessEvent.objects.get(action=AuditAction.REPORT_OF_CONCERN)
    assert (made.actor_username, made.child_id, made.basis, made.allowed) == (
        "nurse",
        child.pk,
        Basis.OWN_UNIT,
        True,
    )

    # The intake's family therapist now sees the child, on the report as legal basis.
    decision = policy.decide_child(cast.family_therapist, child, Purpose.CARE)
    assert decision.allowed and decision.basis == Basis.REPORT_OF_CONCERN
    therapist = login(cast.family_therapist)
    inbox = therapist.get(INBOX)
    assert (
        child.full_name in inbox.content.decode() and "Not acknowledged" in inbox.content.decode()
    )

    page = therapist.get(reverse("cases:report_detail", args=[report.pk]))
    assert child.full_name in page.content.decode() and "Bruises" in page.content.decode()
    viewed = AccessEvent.objects.filter(
        actor_username="therapist", action=AuditAction.VIEW_CONCERN
    ).last()
    assert (viewed.child_id, viewed.basis, viewed.basis_reference) == (
        child.pk,
        Basis.REPORT_OF_CONCERN,
        f"report:{report.pk}",
    )

    acknowledged = therapist.post(reverse("cases:report_acknowledge", args=[report.pk]))
    assert acknowledged.status_code == 302
    report.refresh_from_db()
    assert report.acknowledged_by == cast.family_therapist and report.acknowledged_at
    event = AccessEvent.objects.get(action=AuditAction.REPORT_ACKNOWLEDGE)
    assert (event.basis, event.unit_name) == (Basis.REPORT_OF_CONCERN, cast.social.name)


def test_the_reporter_sees_the_report_but_cannot_acknowledge_it(cast, login):
    child = factories.child(bvc=cast.bvc)
    _report(login(cast.nurse), child, cast.social)
    report = ReportOfConcern.objects.get()
    page = login(cast.nurse).get(reverse("cases:report_detail", args=[report.pk]))
    assert page.status_code == 200 and "Acknowledge receipt" not in page.content.decode()
    refused = login(cast.nurse).post(reverse("cases:report_acknowledge", args=[report.pk]))
    assert refused.status_code == 200
    assert "Only the receiving unit" in refused.content.decode()
    report.refresh_from_db()
    assert report.acknowledged_at is None


@pytest.mark.parametrize(
    ("to", "what", "field"),
    [("bvc", "Bruises.", "to_unit"), ("social", "", "what"), ("x", "Bruises.", "to_unit")],
)
def test_a_bad_report_gives_a_clear_error_and_sends_nothing(cast, login, to, what, field):
    child = factories.child(bvc=cast.bvc)
    response = login(cast.nurse).post(
        reverse("cases:report_new", args=[child.pk]),
        {"to_unit": getattr(getattr(cast, to, None), "pk", to), "what": what},
    )
    assert response.status_code == 200 and field in response.context["form"].errors
    assert ReportOfConcern.objects.count() == 0


def test_only_someone_who_may_see_the_child_reports_from_its_page(cast, login):
    child = factories.child(bvc=cast.bvc)
    assert _report(login(cast.outsider), child, cast.social).status_code == 404
    assert ReportOfConcern.objects.count() == 0


def _reports(cast, n, acknowledged=0):
    now = timezone.now()
    for i in range(n):
        ReportOfConcern.objects.create(
            child=factories.child(bvc=cast.bvc),
            reporter=cast.nurse,
            reporter_unit=cast.bvc,
            to_unit=cast.social,
            what="Seen.",
            sent_at=now - datetime.timedelta(hours=i),
            acknowledged_at=now if i < acknowledged else None,
            acknowledged_by=cast.family_therapist if i < acknowledged else None,
        )


def _inbox_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(INBOX, params)
    assert response.status_code == 200
    return len(queries)


def test_the_inbox_lists_unacknowledged_first_in_a_fixed_number_of_queries(cast, login):
    client = login(cast.family_therapist)
    _reports(cast, 3, acknowledged=1)
    with_three = _inbox_queries(client)
    _reports(cast, 27, acknowledged=5)
    assert _inbox_queries(client) == with_three
    page = client.get(INBOX).context["page"]
    assert page.paginator.count == 30 and len(page.object_list) == 25
    flags = [r.acknowledged_at is None for r in page.object_list]
    assert flags == sorted(flags, reverse=True)  # every unacknowledged one before the rest
    assert client.get(INBOX, {"sida": 2}).context["page"].number == 2
    assert client.get(INBOX, {"sida": "x"}).status_code == 200


def test_the_inbox_is_only_for_units_that_receive_reports(cast, login):
    assert login(cast.nurse).get(INBOX).status_code == 404
    assert login(cast.outsider).get(INBOX).status_code == 404
