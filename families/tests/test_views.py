"""The start page, the child page and registration, as the users of each unit meet them."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AccessEvent, Action
from demo.identity_numbers import fictional_personnummer
from directory.models import Membership
from families.models import Child, Custody, Guardian, ProtectionLevel
from tests import factories

pytestmark = pytest.mark.django_db


def _list_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("families:child_list"), params)
    assert response.status_code == 200
    return len(queries)


def test_the_child_list_runs_the_same_number_of_queries_for_10_and_300_children(cast, as_user):
    client = as_user(cast.nurse)
    for _ in range(10):
        factories.child(bvc=cast.bvc)
    with_ten = _list_queries(client)
    for _ in range(290):
        factories.child(bvc=cast.bvc, school=cast.preschool)
    assert _list_queries(client) == with_ten
    factories.child(bvc=cast.bvc, first_name="Unik", last_name="Sökbarn")
    assert _list_queries(client, q="Barnsson") == _list_queries(client, q="Unik Sökbarn")


def test_the_list_shows_only_own_children_paginated(cast, as_user, settings):
    settings.CHILD_LIST_PAGE_SIZE = 5
    own = [factories.child(bvc=cast.bvc) for _ in range(7)]
    stranger = factories.child(bvc=cast.other_bvc, first_name="Främling")
    response = as_user(cast.nurse).get(reverse("families:child_list"))
    assert response.context["page"].paginator.count == 7
    assert len(response.context["page"].object_list) == 5
    assert "Främling" not in response.content.decode()
    second = as_user(cast.nurse).get(reverse("families:child_list"), {"sida": 2})
    assert {c.pk for c in second.context["page"].object_list} <= {c.pk for c in own}
    assert stranger.pk not in {c.pk for c in second.context["page"].object_list}


def test_search_finds_a_child_by_name_or_any_written_form_of_the_number(cast, as_user):
    target = factories.child(bvc=cast.bvc, first_name="Saga", last_name="Lindqvist")
    factories.child(bvc=cast.bvc, first_name="Noah", last_name="Berg")
    client = as_user(cast.nurse)
    number = target.identity_number
    for q in ["saga", "Lindqvist Saga", number, f"{number[2:8]}-{number[8:]}", number[2:]]:
        page = client.get(reverse("families:child_list"), {"q": q}).context["page"]
        assert [c.pk for c in page.object_list] == [target.pk], q


def test_bad_search_input_gives_a_clear_message(cast, as_user):
    factories.child(bvc=cast.bvc)
    response = as_user(cast.nurse).get(reverse("families:child_list"), {"q": "<script>"})
    assert response.status_code == 200
    assert response.context["form"].errors["q"]
    assert response.context["page"].paginator.count == 0


def test_listing_children_is_logged(cast, as_user):
    as_user(cast.nurse).get(reverse("families:child_list"))
    event = AccessEvent.objects.get()
    assert event.action == Action.LIST_CHILDREN and event.actor_username == "nurse"


def test_the_child_page_shows_facts_guardians_and_custody_and_is_audited(cast, as_user):
    child = factories.child(bvc=cast.bvc)
    mother = factories.guardian_of(child, preferred_language="ar", needs_interpreter=True)
    factories.guardian_of(child)
    response = as_user(cast.nurse).get(reverse("families:child_detail", args=[child.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert child.full_name in body and mother.full_name in body
    assert "Hemliga gatan 1" in body
    event = AccessEvent.objects.get(action=Action.VIEW_CHILD)
    assert (event.child_id, event.allowed, event.basis, event.unit_name) == (
        child.pk,
        True,
        "own_unit",
        cast.bvc.name,
    )
    assert event.request_id == response["X-Request-ID"]


def test_another_units_child_is_a_404_like_a_missing_one_and_the_attempt_is_logged(cast, as_user):
    child = factories.child(bvc=cast.bvc)
    client = as_user(cast.outsider)
    forbidden_url = reverse("families:child_detail", args=[child.pk])
    missing_url = reverse("families:child_detail", args=[child.pk + 1000])
    forbidden, missing = client.get(forbidden_url), client.get(missing_url)
    assert forbidden.status_code == missing.status_code == 404

    # The same page, but for the path itself (the language switch returns to it) and the
    # per-render mask of the CSRF token.
    def page(response, url):
        body = response.content.decode().replace(url, "PATH")
        return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "CSRF", body)

    assert page(forbidden, forbidden_url) == page(missing, missing_url)
    denied = AccessEvent.objects.filter(allowed=False).order_by("seq")
    assert [(e.child_id, e.basis, e.actor_username) for e in denied] == [
        (child.pk, "none", "outsider"),
        (child.pk + 1000, "none", "outsider"),
    ]
    assert denied[0].child_identifier == ""  # nothing about the child leaks into the attempt


def test_a_protected_childs_address_never_appears_in_lists(cast, as_user):
    child = factories.child(bvc=cast.bvc, protection=ProtectionLevel.PROTECTED_ADDRESS)
    body = as_user(cast.nurse).get(reverse("families:child_list")).content.decode()
    assert child.last_name in body and "Hemliga gatan" not in body


def _registration(**overrides):
    number = fictional_personnummer(__import__("datetime").date(2026, 9, 1), 3)
    data = {
        "identity_number": f"{number[2:8]}-{number[8:]}",
        "first_name": "Ny",
        "last_name": "Född",
        "street_address": "Björkvägen 3",
        "postal_code": "991 30",
        "city": "Ekby",
        "protection": "none",
        "custody": "joint",
        "g1-identity_number": fictional_personnummer(__import__("datetime").date(1990, 3, 3), 4),
        "g1-first_name": "Mamma",
        "g1-last_name": "Född",
        "g1-preferred_language": "so",
        "g2-identity_number": fictional_personnummer(__import__("datetime").date(1989, 4, 4), 5),
        "g2-first_name": "Pappa",
        "g2-last_name": "Född",
        "g2-preferred_language": "sv",
    }
    data.update(overrides)
    return data


def test_a_nurse_registers_a_newborn_with_two_guardians(cast, as_user):
    client = as_user(cast.nurse)
    response = client.post(reverse("families:child_register"), _registration(unit=cast.bvc.pk))
    child = Child.objects.get(first_name="Ny")
    assert response.status_code == 302
    assert child.bvc_unit == cast.bvc and child.birth_date.isoformat() == "2026-09-01"
    assert len(child.identity_number) == 12 and child.postal_code == "99130"
    assert set(Custody.objects.filter(child=child).values_list("kind", flat=True)) == {"joint"}
    event = AccessEvent.objects.get(action=Action.REGISTER_CHILD)
    assert event.child_id == child.pk and event.allowed


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"identity_number": "20260901-0000"}, "identity_number"),
        ({"identity_number": "", "reserve_number": ""}, "__all__"),
        ({"postal_code": "12"}, "postal_code"),
        ({"custody": "sole"}, "custody"),
        ({"birth_date": "2020-01-01"}, "birth_date"),
        ({"g1-identity_number": "19900303-1234"}, "g1"),
    ],
)
def test_bad_registration_input_gives_a_clear_error_and_changes_nothing(
    cast, as_user, overrides, field
):
    client = as_user(cast.nurse)
    before = (Child.objects.count(), Guardian.objects.count(), AccessEvent.objects.count())
    response = client.post(
        reverse("families:child_register"), _registration(unit=cast.bvc.pk, **overrides)
    )
    assert response.status_code == 200
    errors = {**response.context["form"].errors}
    for gform in response.context["guardian_forms"]:
        if gform.errors:
            errors[gform.prefix] = gform.errors
    assert field in errors, errors
    assert (Child.objects.count(), Guardian.objects.count(), AccessEvent.objects.count()) == before


def test_registering_in_someone_elses_unit_is_refused(cast, as_user):
    response = as_user(cast.nurse).post(
        reverse("families:child_register"), _registration(unit=cast.other_bvc.pk)
    )
    assert response.status_code == 200 and "unit" in response.context["form"].errors
    assert not Child.objects.exists()


def test_registering_a_child_twice_is_refused_and_logged(cast, as_user):
    client = as_user(cast.nurse)
    client.post(reverse("families:child_register"), _registration(unit=cast.bvc.pk))
    response = client.post(reverse("families:child_register"), _registration(unit=cast.bvc.pk))
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    assert Child.objects.count() == 1
    assert AccessEvent.objects.filter(action=Action.REGISTER_CHILD, allowed=False).exists()


@pytest.mark.parametrize("path", ["/barn/99999999999999999999999999/", "/barn/-1/", "/barn/x/"])
def test_an_impossible_child_id_is_a_plain_404_not_a_server_error(cast, as_user, path):
    response = as_user(cast.nurse).get(path)
    assert response.status_code == 404


def test_the_list_counts_each_child_once_and_pages_in_name_order_with_units(
    cast, as_user, settings
):
    """The unsearched count comes from the policy's ids alone: a child of both a user's BVC
    and school is counted once. The page's children come in name order with their units."""
    settings.CHILD_LIST_PAGE_SIZE = 2
    both = factories.child(bvc=cast.bvc, school=cast.preschool, last_name="Ahl")
    own = factories.child(bvc=cast.bvc, last_name="Berg")
    later = factories.child(bvc=cast.bvc, last_name="Cedergren")
    factories.child(bvc=cast.other_bvc, last_name="Främling")
    Membership.objects.create(professional=cast.nurse, unit=cast.preschool)

    client = as_user(cast.nurse)
    first = client.get(reverse("families:child_list")).context["page"]
    assert first.paginator.count == 3
    assert [c.pk for c in first.object_list] == [both.pk, own.pk]
    assert (first.object_list[0].bvc_unit, first.object_list[0].school_unit) == (
        cast.bvc,
        cast.preschool,
    )
    second = client.get(reverse("families:child_list"), {"sida": 2}).context["page"]
    assert [c.pk for c in second.object_list] == [later.pk]


def test_the_list_sorts_children_of_every_rule_together_by_name(cast, as_user, settings):
    """The social services' list holds children reached by a report to the unit, by a
    consent and by the unit itself; their names come by different ways (the child's row or
    the unit's index) and still sort as one list: last name, first name, then id."""
    from cases.models import ReportOfConcern
    from consent.policy import Purpose

    settings.CHILD_LIST_PAGE_SIZE = 3
    reported = factories.child(bvc=cast.bvc, last_name="Berg", first_name="Ada")
    ReportOfConcern.objects.create(
        child=reported, reporter=cast.nurse, reporter_unit=cast.bvc, to_unit=cast.social, what="x"
    )
    consented = factories.child(bvc=cast.bvc, last_name="Berg", first_name="Alva")
    factories.guardian_of(consented)
    factories.consent(consented, cast.nurse, Purpose.CARE, sectors=[cast.social.sector])
    own = factories.child(bvc=cast.social, last_name="Almgren")
    twin = factories.child(bvc=cast.social, last_name="Berg", first_name="Alva")
    factories.child(bvc=cast.bvc, last_name="Aaberg")  # the BVC's only: never listed

    client = as_user(cast.family_therapist)
    first = client.get(reverse("families:child_list")).context["page"]
    second = client.get(reverse("families:child_list"), {"sida": 2}).context["page"]
    assert first.paginator.count == 4
    listed = [c.pk for c in [*first.object_list, *second.object_list]]
    assert listed == [own.pk, reported.pk, *sorted([consented.pk, twin.pk])]
