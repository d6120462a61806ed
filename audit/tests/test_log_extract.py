"""The guardian's access-log extract: who accessed the child, when, on what basis."""

import pytest
from django.urls import reverse

from audit.models import AccessEvent, Action
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_unit_manager_gets_the_extract_of_every_access_to_the_child(cast, as_user):
    child = factories.child(bvc=cast.bvc)
    other = factories.child(bvc=cast.bvc, first_name="Annan")
    as_user(cast.nurse).get(reverse("families:child_detail", args=[child.pk]))
    as_user(cast.outsider).get(reverse("families:child_detail", args=[child.pk]))
    as_user(cast.nurse).get(reverse("families:child_detail", args=[other.pk]))
    response = as_user(cast.manager).get(reverse("audit:log_extract", args=[child.pk]))
    assert response.status_code == 200
    rows = list(response.context["events"])
    # Producing the extract is itself an access, and shows in it.
    assert [(e.actor_username, e.action, e.allowed) for e in rows] == [
        ("nurse", Action.VIEW_CHILD, True),
        ("outsider", Action.VIEW_CHILD, False),
        ("manager", Action.LOG_EXTRACT, True),
    ]
    body = response.content.decode()
    assert "Test nurse" in body and cast.bvc.name in body
    assert "Hemliga gatan" not in body  # an extract never carries an address
    produced = AccessEvent.objects.filter(action=Action.LOG_EXTRACT).get()
    assert produced.allowed and produced.child_id == child.pk


def test_the_extract_downloads_as_a_pdf(cast, as_user):
    child = factories.child(bvc=cast.bvc)
    response = as_user(cast.manager).get(
        reverse("audit:log_extract", args=[child.pk]), {"format": "pdf"}
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_the_extract_can_be_limited_to_a_period_and_rejects_a_reversed_one(cast, as_user):
    child = factories.child(bvc=cast.bvc)
    as_user(cast.nurse).get(reverse("families:child_detail", args=[child.pk]))
    client = as_user(cast.manager)
    url = reverse("audit:log_extract", args=[child.pk])
    assert not list(
        client.get(url, {"since": "2001-01-01", "until": "2001-12-31"}).context["events"]
    )
    bad = client.get(url, {"since": "2030-01-01", "until": "2020-01-01"})
    assert bad.status_code == 200 and bad.context["form"].errors
    assert not list(bad.context["events"])
    nonsense = client.get(url, {"since": "not a date"})
    assert nonsense.status_code == 200 and nonsense.context["form"].errors["since"]


def test_a_nurse_who_is_not_a_manager_cannot_produce_an_extract(cast, as_user):
    child = factories.child(bvc=cast.bvc)
    response = as_user(cast.nurse).get(reverse("audit:log_extract", args=[child.pk]))
    assert response.status_code == 404
    denied = AccessEvent.objects.get(action=Action.LOG_EXTRACT)
    assert not denied.allowed and denied.child_id == child.pk


def test_a_manager_of_another_unit_gets_a_404(cast, as_user):
    child = factories.child(bvc=cast.other_bvc)
    response = as_user(cast.manager).get(reverse("audit:log_extract", args=[child.pk]))
    assert response.status_code == 404


@pytest.mark.parametrize(
    "period",
    [{"until": "9999-12-31"}, {"since": "0001-01-01"}, {"since": "2020-02-30"}],
)
def test_extreme_or_impossible_dates_get_a_form_error_not_a_server_error(cast, as_user, period):
    child = factories.child(bvc=cast.bvc)
    url = reverse("audit:log_extract", args=[child.pk])
    for extra in ({}, {"format": "pdf"}):
        response = as_user(cast.manager).get(url, {**period, **extra})
        assert response.status_code == 200 and response.context["form"].errors
