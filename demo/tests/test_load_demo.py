import pytest
from django.core.management import call_command

from directory.models import Professional, Team, Unit
from families.models import Child, Custody, Guardian, Language, ProtectionLevel

pytestmark = pytest.mark.django_db


def _counts():
    return tuple(m.objects.count() for m in (Professional, Unit, Team, Child, Guardian, Custody))


def test_the_demo_loads_once_and_a_second_run_adds_nothing(capsys):
    call_command("load_demo")
    first = _counts()
    call_command("load_demo", verbosity=0)
    assert _counts() == first
    out = capsys.readouterr().out
    assert "bvc-sjukskoterska" in out and "demo_totp" in out


def test_the_demo_has_what_the_five_working_models_need():
    call_command("load_demo", verbosity=0)
    from demo.visits_history import FAMILIES as HOME_VISIT_FAMILIES

    # The home-visit newborns (and their older siblings) come on top of the 300.
    home_visits = sum(1 + bool(family.older_sibling) for family in HOME_VISIT_FAMILIES)
    assert 290 <= Child.objects.count() - home_visits <= 300
    assert set(Team.objects.values_list("working_model", flat=True)) == {"bht_plus", "hlt"}
    assert (
        Custody.objects.filter(kind="sole").exists()
        and Custody.objects.filter(kind="joint").exists()
    )
    assert Child.objects.exclude(protection=ProtectionLevel.NONE).exists()
    languages = set(Guardian.objects.values_list("preferred_language", flat=True))
    assert {Language.ARABIC, Language.SOMALI, Language.TIGRINYA, Language.ENGLISH} <= languages
    professions = set(Professional.objects.values_list("profession", flat=True))
    assert {"bvc_nurse", "special_educator", "family_therapist", "school_counsellor"} <= professions
    # Every demo number is in the test series, never a real person's.
    for number in Guardian.objects.values_list("identity_number", flat=True):
        assert 980 <= int(number[8:11]) <= 999


def test_the_demo_totp_command_prints_a_code_the_login_accepts(capsys):
    from django.test import Client

    from demo.data import DEMO_PASSWORD

    call_command("load_demo", verbosity=0)
    client = Client()
    client.post("/konto/logga-in/", {"username": "bvc-sjukskoterska", "password": DEMO_PASSWORD})
    capsys.readouterr()
    call_command("demo_totp", "bvc-sjukskoterska")
    code = capsys.readouterr().out.strip()
    assert client.post("/konto/tvastegsverifiering/", {"token": code}).status_code == 302
    assert client.get("/").status_code == 200


def test_the_demo_refuses_to_load_outside_demo_installations(settings):
    from django.core.management.base import CommandError

    settings.DEMO_ALLOWED = False
    with pytest.raises(CommandError):
        call_command("load_demo", verbosity=0)


def test_the_demo_has_six_months_of_team_work_in_every_consent_state():
    from cases.models import Concern, Referral
    from consent.models import Consent
    from meetings.models import AgendaItem, Meeting

    call_command("load_demo", verbosity=0)
    before = (Meeting.objects.count(), AgendaItem.objects.count(), Consent.objects.count())
    call_command("load_demo", verbosity=0)
    assert (Meeting.objects.count(), AgendaItem.objects.count(), Consent.objects.count()) == before
    for team in Team.objects.all():
        closed = Meeting.objects.filter(team=team, closed_at__isnull=False)
        assert closed.count() >= 5 and AgendaItem.objects.filter(meeting__team=team).exists()
    assert Concern.objects.filter(child__isnull=True).exists()
    assert Concern.objects.filter(child__isnull=False).exists()
    states = {consent.state() for consent in Consent.objects.all()}
    assert {"pending", "effective", "withdrawn", "expired"} <= states
    assert Referral.objects.filter(first_contact_at__isnull=False).exists()


def test_the_demo_has_barnsakert_families_with_answers_over_several_occasions():
    from django.db.models import Count

    from screening.models import QuestionnaireVersion, Response, SupportSlot

    call_command("load_demo", verbosity=0)
    assert QuestionnaireVersion.objects.filter(published_at__isnull=False).count() == 1
    per_guardian = Response.objects.values("guardian").annotate(n=Count("id"))
    assert max(row["n"] for row in per_guardian) >= 3  # trends to follow
    assert Response.objects.values("screening__child").distinct().count() >= 20
    assert SupportSlot.objects.exists()
    before = Response.objects.count()
    call_command("load_demo", verbosity=0)
    assert Response.objects.count() == before
