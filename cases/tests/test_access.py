"""Every case URL: an outsider meets a 404 (the same as for something missing), the pages
carry no inline script or style (strict CSP), and impossible ids are a 404, never a 500."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from cases.models import Action, ReportOfConcern
from consent.policy import Purpose
from tests import factories

from .conftest import child_with_guardians, make_concern

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast):
    """One of everything, all in Ekby: a child, an identified and an anonymous case, a
    referral, a report of concern and an action."""
    from cases.models import Referral

    child = child_with_guardians(bvc=cast.bvc)
    case = make_concern(cast.nurse, cast.bvc, child=child, team=cast.bht_team)
    anonymous = make_concern(cast.nurse, cast.bvc, team=cast.bht_team)
    consent = factories.consent(
        child, cast.nurse, Purpose.REFERRAL, service=cast.child_psychologist
    )
    referral = Referral.objects.create(
        concern=case,
        child=child,
        service=cast.child_psychologist,
        consent=consent,
        created_by=cast.nurse,
        unit=cast.bvc,
        sent_at=case.created_at,
    )
    report = ReportOfConcern.objects.create(
        child=child, reporter=cast.nurse, reporter_unit=cast.bvc, to_unit=cast.social, what="x"
    )
    action = Action.objects.create(
        concern=case,
        team=cast.bht_team,
        what="Call",
        responsible=cast.nurse,
        due_date=case.created_at.date(),
        created_by=cast.coordinator,
    )
    return {
        "child": child.pk,
        "case": case.pk,
        "anonymous": anonymous.pk,
        "referral": referral.pk,
        "report": report.pk,
        "action": action.pk,
        "team": cast.bht_team.pk,
    }


# (URL name, the object in `world` it names, method)
OBJECT_URLS = [
    ("cases:concern_new_for_child", "child", "get"),
    ("cases:concern_new_for_child", "child", "post"),
    ("cases:concern_detail", "case", "get"),
    ("cases:concern_detail", "anonymous", "get"),
    ("cases:concern_identify", "anonymous", "get"),
    ("cases:concern_identify", "anonymous", "post"),
    ("cases:concern_family_contacted", "case", "post"),
    ("cases:referral_new", "case", "get"),
    ("cases:referral_new", "case", "post"),
    ("cases:referral_update", "referral", "post"),
    ("cases:referral_stats", "team", "get"),
    ("cases:report_new", "child", "get"),
    ("cases:report_new", "child", "post"),
    ("cases:report_detail", "report", "get"),
    ("cases:report_acknowledge", "report", "post"),
    ("cases:action_done", "action", "post"),
]


@pytest.mark.parametrize(("name", "target", "method"), OBJECT_URLS)
def test_an_outsider_gets_a_404_everywhere(cast, login, world, name, target, method):
    client = login(cast.outsider)
    response = getattr(client, method)(reverse(name, args=[world[target]]), {"step": "received"})
    assert response.status_code == 404


def test_an_outsiders_worklist_and_inbox_show_nothing_of_others(cast, login, world):
    client = login(cast.outsider)
    worklist = client.get(reverse("cases:worklist"))
    assert worklist.status_code == 200
    assert not any(worklist.context[key].rows for key in ("actions", "cases", "contact"))
    assert client.get(reverse("cases:report_inbox")).status_code == 404


PAGES = [
    ("cases:worklist", None, "nurse"),
    ("cases:concern_new", None, "nurse"),
    ("cases:concern_new_for_child", "child", "nurse"),
    ("cases:concern_detail", "case", "nurse"),
    ("cases:concern_detail", "anonymous", "special_educator"),
    ("cases:concern_identify", "anonymous", "nurse"),
    ("cases:referral_new", "case", "nurse"),
    ("cases:referral_stats", "team", "coordinator"),
    ("cases:report_new", "child", "nurse"),
    ("cases:report_inbox", None, "family_therapist"),
    ("cases:report_detail", "report", "family_therapist"),
]


@pytest.mark.parametrize(("name", "target", "who"), PAGES)
def test_the_pages_carry_no_inline_script_or_style(cast, login, world, name, target, who):
    url = reverse(name, args=[world[target]] if target else [])
    response = login(getattr(cast, who)).get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<script" not in body and "<style" not in body
    assert not re.search(r"\sstyle=", body) and not re.search(r"\son[a-z]+=", body)
    assert "css/cases.css" in body


@pytest.mark.parametrize(
    "path",
    [
        "/arenden/9999999999999999999/",
        "/arenden/999999999999999999/",
        "/arenden/orosanmalningar/999999999999999999/",
        "/arenden/remisser/999999999999999999/steg/",
        "/arenden/team/999999999999999999/ledtider/",
        "/arenden/barn/999999999999999999/ny/",
    ],
)
def test_an_impossible_id_is_a_plain_404(cast, login, path):
    client = login(cast.nurse)
    method = client.post if "steg" in path else client.get
    assert method(path).status_code == 404


def test_a_huge_id_in_a_form_is_an_error_not_a_crash(cast, login, world):
    response = login(cast.nurse).post(
        reverse("cases:concern_identify", args=[world["anonymous"]]),
        {"child": "99999999999999999999999", "consent": "99999999999999999999999"},
    )
    assert response.status_code == 200 and response.context["form"].errors
