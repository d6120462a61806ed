"""CSV/XLSX import and export of the resource directory: commands and admin pages."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from directory.models import Professional, Service, Unit
from directory.resources import ServiceResource, import_problems
from screening.models import Domain
from tests import factories

pytestmark = pytest.mark.django_db

COMPARED = [
    "name",
    "kind",
    "provider_id",
    "municipality_id",
    "description",
    "target_group",
    "min_age_years",
    "max_age_years",
    "phone",
    "email",
    "street_address",
    "postal_code",
    "city",
    "opening_hours",
    "languages",
    "domains",
    "families_can_contact",
    "active",
]
HEADER = (
    "name,kind,provider,municipality,description,target_group,min_age_years,max_age_years,"
    "phone,email,street_address,postal_code,city,opening_hours,languages,domains,"
    "families_can_contact,active"
)


def _snapshot() -> list[tuple]:
    return sorted(Service.objects.values_list(*COMPARED))


@pytest.fixture
def directory(cast) -> Unit:
    """The cast's two services and a fully described one, with text that needs quoting."""
    Service.objects.create(
        name="Stödsamtal, för föräldrar",
        kind=Service.Kind.FAMILY_THERAPY,
        provider=cast.social,
        municipality=cast.social.municipality,
        description='Samtal "i lugn och ro".\nAndra raden; med semikolon.',
        target_group="Föräldrar",
        min_age_years=0,
        max_age_years=12,
        phone="0999-200 00",
        email="stod@example.org",
        street_address="Torget 1",
        postal_code="999 99",
        city="Ekby",
        opening_hours="Mån–fre 8–16",
        languages=["sv", "ar", "prs"],
        domains=[Domain.PARENTAL_STRESS, Domain.VIOLENCE],
        families_can_contact=False,
        active=False,
    )
    return cast.social


def _import(path: Path, *extra: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_services", str(path), *extra, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _bad_import(path: Path) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_services", str(path), stdout=out, stderr=err)
    return str(caught.value), err.getvalue()


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_then_import_into_an_empty_directory_gives_the_same_services(
    directory, tmp_path, file_format
):
    before = _snapshot()
    assert len(before) == 3
    path = tmp_path / f"services.{file_format}"
    call_command(
        "export_services", "--format", file_format, "--output", str(path), stderr=io.StringIO()
    )
    Service.objects.all().delete()

    out, _ = _import(path)

    assert "3 new" in out
    assert _snapshot() == before


def test_csv_goes_to_standard_output_with_names_and_comma_separated_codes(directory):
    out = io.StringIO()
    call_command("export_services", stdout=out)
    text = out.getvalue()
    assert text.splitlines()[0] == HEADER
    assert '"sv, ar, prs","parental_stress, violence",0,0' in text
    assert "Socialtjänsten Ekby,Ekby kommun" in text


def test_importing_the_same_file_again_changes_nothing(directory, tmp_path):
    path = tmp_path / "services.csv"
    call_command("export_services", "--output", str(path), stderr=io.StringIO())
    before = _snapshot()
    out, _ = _import(path)
    assert "0 new, 0 updated, 3 unchanged" in out
    assert _snapshot() == before


def test_an_import_updates_a_service_matched_by_name_and_provider(directory, tmp_path):
    path = tmp_path / "services.csv"
    path.write_text(
        HEADER + "\nBarnpsykolog,child_psychologist,Barnpsykologerna Ekby,Ekby kommun,"
        "Ny text,,0,6,0999-1,,,,,,sv,low_mood,1,1\n",
        encoding="utf-8",
    )
    out, _ = _import(path)
    assert "0 new, 1 updated" in out
    service = Service.objects.get(name="Barnpsykolog")
    assert (service.description, service.max_age_years, service.languages) == ("Ny text", 6, ["sv"])
    assert Service.objects.count() == 3


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ("X,other,Socialtjänsten Ekby,Ekby kommun,,,0,6,,,,,,,sv,sleep,1,1", "domains", "sleep"),
        ("X,other,Socialtjänsten Ekby,Ekby kommun,,,0,6,,,,,,,sv;xx,,1,1", "languages", "xx"),
        ("X,other,Okänd enhet,Ekby kommun,,,0,6,,,,,,,sv,,1,1", "provider", "Okänd enhet"),
        ("X,other,Socialtjänsten Ekby,Okänd kommun,,,0,6,,,,,,,sv,,1,1", "municipality", "Okänd"),
        ("X,wizard,Socialtjänsten Ekby,Ekby kommun,,,0,6,,,,,,,sv,,1,1", "kind", "wizard"),
        ("X,other,Socialtjänsten Ekby,Ekby kommun,,,9,6,,,,,,,sv,,1,1", "max_age_years", ""),
        ("X,other,Socialtjänsten Ekby,Ekby kommun,,,0,6,,nope,,,,,sv,,1,1", "email", ""),
        ("X,other,Socialtjänsten Ekby,Ekby kommun,,,två,6,,,,,,,sv,,1,1", "min_age", "två"),
        ("X,other,Socialtjänsten Ekby,Ekby kommun,,,0,6,,,,,,,sv,,kanske,1", "families_can", ""),
    ],
    ids=[
        "domain",
        "language",
        "provider",
        "municipality",
        "kind",
        "ages",
        "email",
        "age-in-words",
        "boolean",
    ],
)
def test_a_bad_row_is_reported_and_nothing_is_imported(directory, tmp_path, row, column, message):
    good = "God,other,Socialtjänsten Ekby,Ekby kommun,,,0,6,,,,,,,sv,,1,1"
    path = tmp_path / "services.csv"
    path.write_text(f"{HEADER}\n{good}\n{row}\n", encoding="utf-8")
    before = _snapshot()

    error, details = _bad_import(path)

    assert "nothing was imported" in error
    assert f"Row 2, column {column}" in details
    assert message in details
    assert "Row 1" not in details
    assert _snapshot() == before


def test_the_resource_itself_never_saves_part_of_a_bad_file(directory):
    dataset = ServiceResource().export(Service.objects.none())
    dataset.append(
        ["Ny", "other", "Socialtjänsten Ekby", "Ekby kommun", *[""] * 10, "sv", "", 1, 1]
    )
    dataset.append(
        ["Fel", "other", "Socialtjänsten Ekby", "Ekby kommun", *[""] * 10, "", "x", 1, 1]
    )
    result = ServiceResource().import_data(dataset, dry_run=False)
    assert import_problems(result)
    assert not Service.objects.filter(name__in=["Ny", "Fel"]).exists()


def test_an_ambiguous_unit_name_is_resolved_by_the_rows_municipality(directory, tmp_path):
    other = factories.organisation("Sjöstad kommun")
    twin = factories.unit("Socialtjänsten Ekby", "social_services", other)  # same name
    path = tmp_path / "services.csv"
    path.write_text(
        HEADER + "\nTvilling,other,Socialtjänsten Ekby,Sjöstad kommun,,,0,6,,,,,,,,,1,1\n",
        encoding="utf-8",
    )
    _import(path)
    assert Service.objects.get(name="Tvilling").provider == twin


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("services.txt", "x", "Cannot tell the format"),
        ("services.csv", None, "No such file"),
        ("services.csv", "name,kind\nX,other\n", "provider"),
        ("services.csv", "", "no header row"),
        ("services.xlsx", "not a workbook", "Could not read"),
    ],
    ids=["extension", "missing", "no-provider-column", "empty", "broken-xlsx"],
)
def test_a_file_that_cannot_be_read_gives_a_clear_error(
    directory, tmp_path, name, content, message
):
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    before = _snapshot()
    error, details = _bad_import(path)
    assert message in error + details
    assert _snapshot() == before


def test_a_dry_run_checks_the_file_and_changes_nothing(directory, tmp_path):
    path = tmp_path / "services.csv"
    path.write_text(HEADER + "\nNy,other,Socialtjänsten Ekby,Ekby kommun,,,0,6,,,,,,,,,1,1\n")
    out, _ = _import(path, "--dry-run")
    assert "1 new" in out and "nothing was changed" in out
    assert not Service.objects.filter(name="Ny").exists()


def test_xlsx_needs_an_output_file():
    with pytest.raises(CommandError, match="--output"):
        call_command("export_services", "--format", "xlsx", stdout=io.StringIO())


# --- The admin ------------------------------------------------------------------------------

IMPORT_URL = "/admin/directory/service/import/"


def _administrator(*codenames: str) -> Professional:
    person = factories.professional("regionadmin", profession="administrator", is_staff=True)
    person.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="directory", codename__in=codenames)
    )
    return person


def test_the_import_page_resolves_where_the_tests_expect_it():
    assert reverse("admin:directory_service_import") == IMPORT_URL


def test_the_import_page_needs_login_and_the_second_factor(directory):
    anonymous = Client().get(IMPORT_URL)
    assert anonymous.status_code == 302 and anonymous.url.startswith("/konto/logga-in/")
    _administrator("add_service", "change_service", "view_service")
    password_only = Client()
    password_only.post(
        "/konto/logga-in/", {"username": "regionadmin", "password": "correct horse battery"}
    )
    response = password_only.get(IMPORT_URL)
    assert response.status_code == 302 and response.url == "/konto/tvastegsverifiering/"


def test_the_import_page_needs_staff_status_and_the_directory_permissions(directory, as_user):
    not_staff = factories.professional("plain")
    assert as_user(not_staff).get(IMPORT_URL).url.startswith("/admin/login/")
    viewer = _administrator("view_service")
    assert as_user(viewer).get(IMPORT_URL).status_code == 403
    assert as_user(viewer).get("/admin/directory/service/export/").status_code == 200


def test_the_admin_previews_an_import_and_imports_only_after_confirmation(directory, as_user):
    client = as_user(_administrator("add_service", "change_service", "view_service"))
    page = client.get(IMPORT_URL)
    assert page.status_code == 200
    upload = io.BytesIO(
        (HEADER + "\nNy,other,Socialtjänsten Ekby,Ekby kommun,,,0,6,,,,,,,sv,,1,1\n").encode()
    )
    upload.name = "services.csv"

    preview = client.post(IMPORT_URL, {"format": "0", "import_file": upload})

    assert preview.status_code == 200
    confirm = preview.context["confirm_form"]
    assert not Service.objects.filter(name="Ny").exists()
    done = client.post(
        reverse("admin:directory_service_process_import"),
        {name: confirm.initial[name] for name in confirm.fields if name in confirm.initial},
    )
    assert done.status_code == 302
    assert Service.objects.filter(name="Ny", provider=directory).exists()


def test_the_admin_shows_the_errors_of_a_bad_file_and_offers_no_confirmation(directory, as_user):
    client = as_user(_administrator("add_service", "change_service", "view_service"))
    upload = io.BytesIO(
        (
            HEADER + "\nNy,other,Socialtjänsten Ekby,Ekby kommun,,,0,6,,,,,,,sv,,1,1"
            "\nFel,other,Ingen sådan enhet,Ekby kommun,,,0,6,,,,,,,sv,sleep,1,1\n"
        ).encode()
    )
    upload.name = "services.csv"
    before = _snapshot()

    preview = client.post(IMPORT_URL, {"format": "0", "import_file": upload})

    assert preview.status_code == 200
    assert "confirm_form" not in preview.context
    result = preview.context["result"]
    [invalid] = result.invalid_rows
    assert invalid.number == 2
    assert set(invalid.field_specific_errors) == {"provider", "domains"}
    body = preview.content.decode()
    assert "Ingen sådan enhet" in body and "sleep" in body
    assert _snapshot() == before


def test_the_admin_offers_only_csv_and_xlsx(directory, as_user):
    client = as_user(_administrator("add_service", "change_service", "view_service"))
    choices = client.get(IMPORT_URL).context["form"].fields["format"].choices
    assert [label for _, label in choices] == ["---", "csv", "xlsx"]


def test_the_admin_exports_csv(directory, as_user):
    client = as_user(_administrator("view_service"))
    fields = {f"serviceresource_{name}": "on" for name in HEADER.split(",")}
    response = client.post("/admin/directory/service/export/", {"format": "0", **fields})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().splitlines()[0] == HEADER
