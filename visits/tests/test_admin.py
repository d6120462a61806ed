"""An administrator sets up a home-visit programme in the admin: its visits, who takes part in
each, and the areas where it is offered to whom. No code, and bad input saves nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import translation

from directory.models import Organisation, Professional, Sector
from tests import factories
from visits.models import Enrolment, HomeVisit, Programme, ProgrammeArea, ProgrammeVisit

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/visits/programme/add/"

VISITS = [
    # number, sv, en, months, weeks, before, after, professions
    (1, "Nyfödd", "Newborn", 0, 1, 3, 14, ["bvc_nurse", "family_therapist"]),
    (2, "2 månader", "2 months", 2, 0, 14, 14, ["bvc_nurse", "family_therapist"]),
    (3, "4 månader", "4 months", 4, 0, 14, 14, ["bvc_nurse"]),
    (4, "8 månader", "8 months", 8, 0, 21, 21, ["bvc_nurse", "family_therapist"]),
    (5, "15 månader", "15 months", 15, 0, 30, 30, ["family_therapist"]),
]
AREAS = [("Ekby centrum", "99130", "all"), ("Ängby", "99138", "first_time")]


def sv(text: str, **values: object) -> str:
    """`text` as the (Swedish) admin shows it, from the same catalogues."""
    with translation.override("sv"):
        return translation.gettext(text) % values if values else translation.gettext(text)


def _administrator(*codenames: str) -> Professional:
    person = factories.professional("regionadmin", profession="administrator", is_staff=True)
    person.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="visits", codename__in=codenames)
    )
    return person


ALL_PERMISSIONS = [
    f"{verb}_{model}"
    for verb in ("add", "change", "view", "delete")
    for model in ("programme", "programmevisit", "programmearea")
]


@pytest.fixture
def places(cast):
    region = factories.organisation("Region Sjöland", Organisation.Kind.REGION)
    municipality = cast.bvc.municipality
    return region, municipality, cast.social


def _post(places, visits=VISITS, areas=AREAS, name="Utökade hembesök Ekby"):
    region, municipality, partner = places
    data = {
        "name": name,
        "description": "",
        "region": region.pk,
        "municipality": municipality.pk,
        "partner_unit": partner.pk,
        "children_born_from": "2026-01-01",
        "offer_until_weeks": "12",
        "active": "on",
        "visits-TOTAL_FORMS": str(len(visits)),
        "visits-INITIAL_FORMS": "0",
        "visits-MIN_NUM_FORMS": "1",
        "visits-MAX_NUM_FORMS": "1000",
        "areas-TOTAL_FORMS": str(len(areas)),
        "areas-INITIAL_FORMS": "0",
        "areas-MIN_NUM_FORMS": "1",
        "areas-MAX_NUM_FORMS": "1000",
    }
    for i, (number, sv, en, months, weeks, before, after, professions) in enumerate(visits):
        data |= {
            f"visits-{i}-number": str(number),
            f"visits-{i}-name_sv": sv,
            f"visits-{i}-name_en": en,
            f"visits-{i}-age_months": str(months),
            f"visits-{i}-age_weeks": str(weeks),
            f"visits-{i}-window_days_before": str(before),
            f"visits-{i}-window_days_after": str(after),
            f"visits-{i}-professions": professions,
        }
    for i, (area, prefix, rule) in enumerate(areas):
        data |= {
            f"areas-{i}-name": area,
            f"areas-{i}-postal_code_prefix": prefix,
            f"areas-{i}-rule": rule,
        }
    return data


def _nothing_saved() -> bool:
    return not (
        Programme.objects.exists()
        or ProgrammeVisit.objects.exists()
        or ProgrammeArea.objects.exists()
    )


def test_an_administrator_creates_a_programme_with_five_visits_and_two_areas(places, as_user):
    client = as_user(_administrator(*ALL_PERMISSIONS))
    form = client.get(ADD_URL)
    assert form.status_code == 200
    # The professions are a labelled list of checkboxes, not a JSON text box.
    assert 'type="checkbox" name="visits-0-professions" value="family_therapist"' in (
        form.content.decode()
    )

    response = client.post(ADD_URL, _post(places))

    assert response.status_code == 302, response.context and response.context["errors"]
    programme = Programme.objects.get()
    assert [
        (v.number, v.age_months, v.age_weeks, v.professions) for v in programme.visits.all()
    ] == [(n, m, w, p) for n, _sv, _en, m, w, _b, _a, p in VISITS]
    assert sorted(programme.areas.values_list("postal_code_prefix", "rule")) == [
        ("99130", "all"),
        ("99138", "first_time"),
    ]
    listing = client.get(reverse("admin:visits_programme_changelist"))
    assert listing.status_code == 200 and "Utökade hembesök Ekby" in listing.content.decode()


def test_a_programme_can_be_changed_later_keeping_its_visits(places, as_user):
    client = as_user(_administrator(*ALL_PERMISSIONS))
    client.post(ADD_URL, _post(places))
    programme = Programme.objects.get()
    page = client.get(reverse("admin:visits_programme_change", args=[programme.pk]))
    assert page.status_code == 200
    assert "checked" in page.content.decode()  # the saved professions are ticked


def test_a_visit_without_a_profession_is_refused_and_nothing_is_saved(places, as_user):
    client = as_user(_administrator(*ALL_PERMISSIONS))
    visits = [*VISITS[:4], (5, "15 månader", "15 months", 15, 0, 30, 30, [])]

    response = client.post(ADD_URL, _post(places, visits=visits))

    assert response.status_code == 200
    assert sv("Choose at least one profession that takes part.") in response.content.decode()
    assert _nothing_saved()


def test_two_new_overlapping_areas_in_one_save_are_refused_and_nothing_is_saved(places, as_user):
    client = as_user(_administrator(*ALL_PERMISSIONS))
    areas = [("Ekby", "991", "all"), ("Ängby", "99138", "first_time")]

    response = client.post(ADD_URL, _post(places, areas=areas))

    assert response.status_code == 200
    assert sv("It overlaps the area %(area)s.", area="Ekby (991)") in response.content.decode()
    assert _nothing_saved()


def test_an_area_overlapping_a_saved_one_is_refused(places, as_user):
    client = as_user(_administrator(*ALL_PERMISSIONS))
    client.post(ADD_URL, _post(places))
    programme = Programme.objects.get()
    url = reverse("admin:visits_programme_change", args=[programme.pk])
    data = _post(places) | {"visits-INITIAL_FORMS": "5", "areas-INITIAL_FORMS": "2"}
    for i, visit in enumerate(programme.visits.order_by("number")):
        data[f"visits-{i}-id"] = str(visit.pk)
        data[f"visits-{i}-programme"] = str(programme.pk)
    for i, area in enumerate(programme.areas.order_by("postal_code_prefix")):
        data[f"areas-{i}-id"] = str(area.pk)
        data[f"areas-{i}-programme"] = str(programme.pk)
        data[f"areas-{i}-postal_code_prefix"] = area.postal_code_prefix
        data[f"areas-{i}-name"] = area.name
        data[f"areas-{i}-rule"] = area.rule
    data |= {
        "areas-TOTAL_FORMS": "3",
        "areas-2-name": "Ekby centrum norr",
        "areas-2-postal_code_prefix": "9913",
        "areas-2-rule": "all",
    }

    response = client.post(url, data)

    assert response.status_code == 200
    assert sv("It overlaps the area %(area)s.", area="Ekby centrum (99130)") in (
        response.content.decode()
    )
    assert programme.areas.count() == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"visits-1-number": "1"}, ("Please correct the duplicate values below.", {})),
        (
            {"visits-2-window_days_after": "400"},
            (
                "At most %(days)s days: a wider window is no longer a visit at that age.",
                {"days": 90},
            ),
        ),
        (
            {"visits-0-window_days_before": "30"},
            ("The window would open before the child is born: at most %(days)s days.", {"days": 7}),
        ),
        ({"areas-1-postal_code_prefix": "99 1x"}, ("Use digits only, e.g. 163.", {})),
        (
            {"visits-1-professions": ["astronaut"]},
            (
                "Select a valid choice. %(value)s is not one of the available choices.",
                {"value": "astronaut"},
            ),
        ),
    ],
)
def test_bad_programme_input_is_refused_with_a_message_and_nothing_is_saved(
    places, as_user, change, message
):
    client = as_user(_administrator(*ALL_PERMISSIONS))

    response = client.post(ADD_URL, _post(places) | change)

    assert response.status_code == 200
    text, values = message
    assert sv(text, **values) in response.content.decode()
    assert _nothing_saved()


def test_a_programme_without_visits_is_refused(places, as_user):
    client = as_user(_administrator(*ALL_PERMISSIONS))

    response = client.post(ADD_URL, _post(places, visits=[]))

    assert response.status_code == 200
    assert sv("A programme needs at least one visit.") in response.content.decode()
    assert _nothing_saved()


def test_the_partner_unit_must_be_a_social_services_unit(places, cast, as_user):
    client = as_user(_administrator(*ALL_PERMISSIONS))
    region, municipality, _social = places

    response = client.post(ADD_URL, _post((region, municipality, cast.bvc)))

    assert response.status_code == 200
    assert cast.bvc.sector == Sector.CHILD_HEALTH and _nothing_saved()


def test_the_programme_admin_needs_staff_status_and_the_visits_permissions(places, as_user):
    plain = factories.professional("plain")
    assert as_user(plain).get(ADD_URL).url.startswith("/admin/login/")
    viewer = _administrator("view_programme")
    assert as_user(viewer).get(ADD_URL).status_code == 403
    assert as_user(viewer).get("/admin/visits/programme/").status_code == 200


def test_identified_home_visit_data_is_not_in_the_admin():
    from django.contrib import admin

    for model in (Enrolment, HomeVisit):
        assert model not in admin.site._registry
    registered = {m._meta.model_name for m in admin.site._registry if m._meta.app_label == "visits"}
    assert registered == {"programme"}


def test_a_visit_that_families_are_scheduled_for_cannot_be_deleted(places, cast, as_user):
    import datetime

    client = as_user(_administrator(*ALL_PERMISSIONS))
    client.post(ADD_URL, _post(places))
    programme = Programme.objects.get()
    first = programme.visits.get(number=1)
    child = factories.child(bvc=cast.bvc, birth=datetime.date(2026, 2, 1))
    enrolment = Enrolment.objects.create(
        child=child,
        programme=programme,
        unit=cast.bvc,
        area=programme.areas.get(postal_code_prefix="99130"),
        rule="all",
        first_time_parents=True,
        offered_by=cast.nurse,
    )
    HomeVisit.objects.create(
        enrolment=enrolment,
        programme_visit=first,
        due_date=datetime.date(2026, 2, 8),
        window_start=datetime.date(2026, 2, 5),
        window_end=datetime.date(2026, 2, 22),
    )
    data = _post(places) | {"visits-INITIAL_FORMS": "5", "areas-INITIAL_FORMS": "2"}
    for i, visit in enumerate(programme.visits.order_by("number")):
        data |= {f"visits-{i}-id": str(visit.pk), f"visits-{i}-programme": str(programme.pk)}
    for i, area in enumerate(programme.areas.order_by("postal_code_prefix")):
        data |= {
            f"areas-{i}-id": str(area.pk),
            f"areas-{i}-programme": str(programme.pk),
            f"areas-{i}-name": area.name,
            f"areas-{i}-postal_code_prefix": area.postal_code_prefix,
            f"areas-{i}-rule": area.rule,
        }
    data["visits-0-DELETE"] = "on"

    response = client.post(reverse("admin:visits_programme_change", args=[programme.pk]), data)

    assert response.status_code == 200
    assert programme.visits.filter(pk=first.pk).exists()
    assert child.last_name not in response.content.decode()  # the refusal names no family
    page = client.get(reverse("admin:visits_programme_change", args=[programme.pk]))
    assert "<td" in page.content.decode() and child.last_name not in page.content.decode()
