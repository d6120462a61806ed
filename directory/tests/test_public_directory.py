"""The public resource directory families open on their own phone, without logging in."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from directory.models import Service, Unit
from directory.views import HELP_WITH, PAGE_SIZE
from screening.models import Domain
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/resurser/"


def _service(provider: Unit, name: str, **fields: Any) -> Service:
    return Service.objects.create(
        name=name,
        kind=fields.pop("kind", Service.Kind.OTHER),
        provider=provider,
        municipality=provider.municipality,
        **fields,
    )


@pytest.fixture
def ekby(db) -> Unit:
    return factories.unit("Familjecentralen Ekby", "open_preschool", factories.organisation("Ekby"))


@pytest.fixture
def sjostad(db) -> Unit:
    return factories.unit(
        "Socialtjänsten Sjöstad", "social_services", factories.organisation("Sjö")
    )


def _names(response) -> list[str]:
    return [service.name for service in response.context["services"]]


def test_the_url_is_the_public_directory():
    assert reverse("directory:public_services") == URL


def test_an_anonymous_family_sees_the_page_without_the_staff_navigation(ekby):
    _service(ekby, "Öppna förskolan")
    response = Client().get(URL)
    assert response.status_code == 200
    assert response.templates[0].name == "directory/public_services.html"
    body = response.content.decode()
    assert "Öppna förskolan" in body
    assert 'class="main-nav"' not in body
    assert reverse("accounts:logout") not in body
    assert 'href="/static/css/directory.css"' in body
    assert "<script" not in body and "style=" not in body


def test_the_page_is_swedish_by_default_and_english_on_request(ekby):
    assert '<html lang="sv">' in Client().get(URL).content.decode()
    client = Client()
    client.cookies["django_language"] = "en"
    assert '<html lang="en">' in client.get(URL).content.decode()


def test_only_active_services_of_active_units_are_listed(ekby, sjostad):
    _service(ekby, "Öppen")
    _service(ekby, "Nedlagd", active=False)
    _service(sjostad, "Enhet stängd")
    sjostad.active = False
    sjostad.save()
    response = Client().get(URL)
    assert _names(response) == ["Öppen"]
    assert "Nedlagd" not in response.content.decode()


def test_each_service_shows_what_a_family_needs_to_get_in_touch(ekby):
    _service(
        ekby,
        "Stödsamtal",
        description="Samtal för föräldrar.",
        target_group="Föräldrar med små barn",
        min_age_years=0,
        max_age_years=6,
        phone="0999-200 00",
        email="stod@example.org",
        street_address="Torget 1",
        postal_code="999 99",
        city="Ekby",
        opening_hours="Mån–fre 8–16",
        languages=["sv", "ar", "so"],
        domains=[Domain.PARENTAL_STRESS],
    )
    body = Client().get(URL).content.decode()
    for text in [
        "Stödsamtal",
        "Familjecentralen Ekby",
        "Samtal för föräldrar.",
        "Föräldrar med små barn",
        "0–6",
        'href="tel:0999-20000"',
        'href="mailto:stod@example.org"',
        "Torget 1",
        "999 99 Ekby",
        "Mån–fre 8–16",
        '<li lang="ar" dir="rtl">العربية</li>',
        '<li lang="so" dir="ltr">Soomaali</li>',
        str(HELP_WITH[Domain.PARENTAL_STRESS]),
    ]:
        assert text in body, text


def test_every_screening_domain_has_plain_words_for_families():
    assert set(HELP_WITH) == set(Domain.values)


def test_filters_by_municipality_need_language_and_self_contact(ekby, sjostad):
    _service(ekby, "Ekby budget", domains=[Domain.ECONOMIC_WORRY], languages=["sv", "ar"])
    _service(ekby, "Ekby remiss", families_can_contact=False, languages=["sv"])
    _service(sjostad, "Sjöstad budget", domains=[Domain.ECONOMIC_WORRY], languages=["so"])
    client = Client()
    ekby_id = ekby.municipality_id
    assert _names(client.get(URL, {"kommun": ekby_id})) == ["Ekby budget", "Ekby remiss"]
    assert _names(client.get(URL, {"behov": Domain.ECONOMIC_WORRY})) == [
        "Ekby budget",
        "Sjöstad budget",
    ]
    assert _names(client.get(URL, {"sprak": "ar"})) == ["Ekby budget"]
    assert _names(client.get(URL, {"sprak": "so"})) == ["Sjöstad budget"]
    assert _names(client.get(URL, {"sjalv": "on"})) == ["Ekby budget", "Sjöstad budget"]
    # A service that lists no language is taken to work in Swedish, as in staff suggestions.
    _service(sjostad, "Sjöstad utan språk")
    assert _names(client.get(URL, {"sprak": "sv"})) == [
        "Ekby budget",
        "Ekby remiss",
        "Sjöstad utan språk",
    ]
    both = client.get(URL, {"kommun": ekby_id, "behov": Domain.ECONOMIC_WORRY, "sjalv": "on"})
    assert _names(both) == ["Ekby budget"]


def test_the_filters_offer_what_the_listed_services_have_with_languages_named_in_themselves(
    ekby, sjostad
):
    _service(ekby, "A", languages=["fa", "sv", "ti"])
    _service(sjostad, "B", languages=["uk"], active=False)
    form = Client().get(URL).context["form"]
    assert [label for _, label in form.fields["kommun"].choices][1:] == ["Ekby"]
    assert [label for _, label in form.fields["sprak"].choices][1:] == ["Svenska", "ትግርኛ", "فارسی"]
    body = Client().get(URL).content.decode()
    assert '<option value="ti" lang="ti" dir="ltr">ትግርኛ</option>' in body
    assert '<label for="id_kommun">' in body and '<label for="id_sjalv">' in body


@pytest.mark.parametrize(
    "query",
    [
        {"sida": "abc", "kommun": "999999999999999999999"},
        {"kommun": "x", "behov": "nonsense", "sprak": '"%_', "sjalv": "maybe"},
        {"sida": "-1"},
        {"sida": "99999999999999999999999"},
        {"behov": ["economic_worry", "violence"]},
    ],
    ids=["huge-municipality", "garbage", "negative-page", "huge-page", "repeated"],
)
def test_bad_filter_values_give_a_normal_page(ekby, query):
    _service(ekby, "Ekby budget")
    response = Client().get(URL, query)
    assert response.status_code == 200
    assert response.context["page"].number == 1


def test_an_unknown_municipality_is_reported_and_the_other_filters_still_apply(ekby):
    _service(ekby, "Med arabiska", languages=["ar"])
    _service(ekby, "Utan")
    response = Client().get(URL, {"kommun": "999999999999999999999", "sprak": "ar"})
    assert "kommun" in response.context["form"].errors
    assert _names(response) == ["Med arabiska"]


def test_no_staff_names_or_personal_data_are_shown(cast):
    social = cast.social
    social.hsa_id = "SE2321000000-HSAID"
    social.save()
    person = factories.professional("someone", units=[social], phone="070-111")
    person.first_name, person.last_name = "Vilhelmina", "Ödmark"
    person.save()
    child = factories.child(bvc=cast.bvc, first_name="Liv", last_name="Barnsdotter")
    response = Client().get(URL)
    body = response.content.decode()
    assert "Budget- och skuldrådgivning" in body
    for private in [
        "Vilhelmina",
        "Ödmark",
        "070-111",
        "Liv",
        "Barnsdotter",
        child.identity_number,
        "SE2321000000-HSAID",
        cast.family_therapist.last_name,
        cast.nurse.username,
    ]:
        assert private not in body, private


def test_a_logged_in_professional_may_open_it_too(cast, as_user):
    response = as_user(cast.nurse).get(URL)
    assert response.status_code == 200
    assert "Barnpsykolog" in response.content.decode()


def _queries(url: str, query: dict[str, str] | None = None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert Client().get(url, query or {}).status_code == 200
    return len(queries)


@pytest.mark.parametrize("query", [{}, {"sprak": "sv", "sjalv": "on", "behov": "low_mood"}])
def test_the_page_runs_the_same_number_of_queries_for_3_and_30_services(ekby, query):
    for n in range(3):
        _service(ekby, f"Tjänst {n:02}", languages=["sv"], domains=["low_mood"])
    few = _queries(URL, query)
    for n in range(3, 30):
        _service(
            factories.unit(f"Enhet {n}", "social_services", factories.organisation(f"Kommun {n}")),
            f"Tjänst {n:02}",
            languages=["sv", "ar"],
            domains=["low_mood"],
        )
    many = _queries(URL, query)
    assert few == many <= 5


def test_the_list_is_paginated_and_the_page_links_keep_the_filters(ekby):
    for n in range(PAGE_SIZE + 5):
        _service(ekby, f"Tjänst {n:02}", languages=["sv"])
    first = Client().get(URL, {"sprak": "sv"})
    assert len(first.context["services"]) == PAGE_SIZE
    assert 'href="?sprak=sv&amp;sida=2"' in first.content.decode()
    second = Client().get(URL, {"sprak": "sv", "sida": "2"})
    assert _names(second) == [f"Tjänst {n:02}" for n in range(PAGE_SIZE, PAGE_SIZE + 5)]
