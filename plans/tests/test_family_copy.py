"""The family's copy of a SIP: what it carries (actions, who, contacts, the child's voice), what
it never carries (screening answers, addresses, units outside the consent, removed people), in
Swedish and English as a page to print and as a PDF; who may make it, and its query budget."""

from __future__ import annotations

import datetime
import re
import zlib

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action
from conftest import request_as
from directory.models import Sector
from families.models import Child
from plans.family import UnknownLanguage, copy_languages, family_copy
from plans.models import Plan, PlanMeeting, PlanVersion
from plans.tests.plan_factories import (
    add_action,
    add_goal,
    add_intervention,
    add_participant,
    plan_version,
    sip_family,
)
from screening.services import (
    follow_up_record,
    occasions_for,
    response_submit,
    screening_start,
    session_for_code,
)
from tests import factories

pytestmark = pytest.mark.django_db

NEEDS = "Alva sover dåligt och familjen är trött på kvällarna."
CHILD_VOICE = "Jag vill att mamma ska vara glad."
FAMILY_VIEW = "Vi vill ha hjälp med rutiner vid läggdags."


@pytest.fixture
def family(cast):
    """A plan with one version: goals, interventions, actions and participants, some of which
    must not reach the copy (a unit outside the consent, a removed participant)."""
    family = sip_family(cast, first_name="Alva")
    cast.family_therapist.phone = "070-111 22 33"
    cast.family_therapist.save(update_fields=["phone"])
    cast.bvc.phone, cast.bvc.email = "0999-100 00", "bvc@ekby.example"
    cast.bvc.save(update_fields=["phone", "email"])
    plan, nurse = family.plan, cast.nurse
    version = plan_version(
        plan,
        nurse,
        coordinator=cast.family_therapist,
        overall_responsibility=cast.social.organisation,
        needs=NEEDS,
        family_view=FAMILY_VIEW,
        child_voice=CHILD_VOICE,
        child_voice_method=PlanVersion.VoiceMethod.SEPARATELY,
        child_voice_by="Specialpedagogen",
    )
    add_goal(version, "Alva sover hela natten")
    add_intervention(version, "Föräldrastöd i grupp", provider=cast.social.organisation)
    add_intervention(version, "Hämtar från förskolan på torsdagar", provider_other="Mormor")
    add_action(version, "Boka ett föräldrasamtal", responsible=cast.family_therapist)
    add_action(version, "Föra sömndagbok", responsible_other="Mamma", status="ongoing")
    add_action(version, "Samtal med elevhälsan", responsible=cast.school_counsellor)
    add_participant(plan, nurse, professional=nurse, role="BVC-sjuksköterska")
    add_participant(plan, nurse, professional=cast.family_therapist, role="Familjebehandlare")
    add_participant(plan, nurse, professional=cast.school_counsellor, role="Skolkurator")
    add_participant(
        plan, nurse, kind="guardian", guardian=family.mother, role="Mamma", contact="072-555 44 33"
    )
    add_participant(plan, nurse, kind="child")
    add_participant(plan, nurse, kind="other", name="Nils Granne", contact="070-999 88 77")
    add_participant(
        plan,
        nurse,
        professional=cast.special_educator,
        role="Specialpedagog",
        removed_at=timezone.now(),
    )
    PlanMeeting.objects.create(
        plan=plan,
        kind=PlanMeeting.Kind.FOLLOW_UP,
        starts_at=timezone.now() + datetime.timedelta(days=30),
        place="Familjecentralen, rum 2",
        created_by=nurse,
    )
    return family


def read_plan(plan: Plan) -> Plan:
    return Plan.objects.select_related("child", "consent").get(pk=plan.pk)


def copy_url(plan: Plan, language: str = "sv", pdf: bool = False) -> str:
    name = "plans:family_copy_pdf" if pdf else "plans:family_copy"
    return f"{reverse(name, args=[plan.pk])}?sprak={language}"


def same_page(body: str, url: str) -> str:
    """A page with its own address and its CSRF token taken out, to compare two pages."""
    body = body.replace(url, "PATH")
    return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "CSRF", body)


def pdf_text(pdf: bytes) -> str:
    """The text a PDF shows, from WeasyPrint's output: each font's ToUnicode map applied to
    the glyph codes of the text operators, in page order. Enough for tests."""
    objects = {}
    for number, body in re.findall(rb"(\d+) 0 obj(.*?)endobj", pdf, re.S):
        stream = re.search(rb"stream\r?\n(.*)\r?\nendstream", body, re.S)
        data = b""
        if stream:
            try:
                data = zlib.decompress(stream.group(1))
            except zlib.error:
                data = stream.group(1)
        objects[int(number)] = (body, data)
    fonts: dict[bytes, dict[str, str]] = {}
    # Font dictionaries may sit in a compressed object stream: search the inflated data too.
    for body, data in objects.values():
        for font in re.finditer(rb"/BaseFont /(\w+)\+[^>]*?/ToUnicode (\d+) 0 R", body + data):
            cmap = objects[int(font.group(2))][1]
            fonts[font.group(1)] = {
                code.decode(): bytes.fromhex(char.decode()).decode("utf-16-be")
                for code, char in re.findall(rb"<([0-9a-f]{4})> <([0-9a-f]{4,})>\n", cmap)
            }
    lines, glyphs = [], {}
    for _, data in objects.values():
        for font, shown in re.findall(rb"/(\w+) [\d.]+ Tf|\[([^\]]*)\]\s*TJ", data):
            if font:
                glyphs = fonts.get(font, {})
                continue
            codes = b"".join(re.findall(rb"<([0-9a-f]+)>", shown)).decode()
            lines.append(
                "".join(glyphs.get(codes[i : i + 4], "?") for i in range(0, len(codes), 4))
            )
    return "\n".join(lines)


def test_the_copy_has_the_plan_in_plain_data(cast, family):
    copy = family_copy(read_plan(family.plan), "sv")

    assert copy.child_first_name == "Alva" and copy.child_name == family.child.full_name
    assert copy.version_number == 1 and copy.needs == NEEDS
    assert copy.goals == ["Alva sover hela natten"]
    assert [(i.what, i.provider) for i in copy.interventions] == [
        ("Föräldrastöd i grupp", "Ekby kommun"),
        ("Hämtar från förskolan på torsdagar", "Mormor"),
    ]
    assert [(a.what, a.who, a.unit, a.status) for a in copy.actions] == [
        ("Boka ett föräldrasamtal", str(cast.family_therapist), "Socialtjänsten Ekby", "planned"),
        ("Föra sömndagbok", "Mamma", "", "ongoing"),
    ]
    assert copy.overall_responsibility == "Ekby kommun"
    assert copy.coordinator.name == str(cast.family_therapist)
    assert copy.coordinator.phone == "070-111 22 33"
    assert copy.next_follow_up == family.plan.next_follow_up
    assert copy.next_meeting.place == "Familjecentralen, rum 2"
    assert (copy.child_voice, copy.family_view) == (CHILD_VOICE, FAMILY_VIEW)
    by_name = {c.name: c for c in copy.participants}
    nurse = by_name[str(cast.nurse)]
    assert (nurse.role, nurse.unit, nurse.phone, nurse.email) == (
        "BVC-sjuksköterska",
        "BVC Ekby",
        "0999-100 00",  # the unit's phone when the professional has none
        "bvc@ekby.example",
    )
    assert by_name[str(cast.family_therapist)].phone == "070-111 22 33"
    assert by_name[family.mother.full_name].other == "072-555 44 33"
    assert by_name["Nils Granne"].other == "070-999 88 77"
    assert "Alva" in by_name


def test_a_participant_or_action_of_a_unit_the_consent_does_not_cover_is_left_out(cast, family):
    copy = family_copy(read_plan(family.plan), "en")

    names = {c.name for c in copy.participants}
    assert str(cast.school_counsellor) not in names  # student health: not in the consent
    assert "Samtal med elevhälsan" not in [a.what for a in copy.actions]


def test_a_removed_participant_is_left_out(cast, family):
    copy = family_copy(read_plan(family.plan), "sv")

    assert str(cast.special_educator) not in {c.name for c in copy.participants}


def test_a_unit_named_in_the_consent_is_covered_like_its_sector(cast, family):
    """A consent that names student health's unit, not its sector, covers it too."""
    from consent.models import ConsentScope

    ConsentScope.objects.create(consent=family.consent, unit=cast.student_health)

    copy = family_copy(read_plan(family.plan), "sv")

    assert str(cast.school_counsellor) in {c.name for c in copy.participants}
    assert "Samtal med elevhälsan" in [a.what for a in copy.actions]


def test_a_plan_without_a_version_gives_a_copy_that_says_so(cast, as_user):
    family = sip_family(cast)

    copy = family_copy(read_plan(family.plan), "sv")
    response = as_user(cast.nurse).get(copy_url(family.plan, "en"))

    assert not copy.has_content and copy.actions == []
    assert response.status_code == 200
    assert "The plan has no content yet" in response.content.decode()


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_print_view_shows_actions_responsibility_and_contacts(cast, family, as_user, language):
    response = as_user(cast.nurse).get(copy_url(family.plan, language))

    body = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Language"] == language
    assert f'<html lang="{language}">' in body
    for text in (
        "Boka ett föräldrasamtal",
        "Föra sömndagbok",
        "Ekby kommun",
        str(cast.family_therapist),
        "070-111 22 33",
        "bvc@ekby.example",
        "072-555 44 33",
        "Nils Granne",
        CHILD_VOICE,
        FAMILY_VIEW,
        "Familjecentralen, rum 2",
        "css/family-copy.css",
    ):
        assert text in body, text
    assert "<table" in body and "<caption>" in body and 'scope="col"' in body
    assert " style=" not in body and "<style" not in body  # the CSP forbids inline styles


def test_the_english_copy_uses_the_english_texts(cast, family, as_user):
    body = as_user(cast.nurse).get(copy_url(family.plan, "en")).content.decode()

    for heading in ("What will happen", "Who does what", "Next follow-up"):
        assert heading in body
    assert "Who has the overall responsibility" in body


def test_the_copy_never_shows_an_address_or_an_identity_number(cast, family, as_user):
    Child.objects.filter(pk=family.child.pk).update(protection="protected_address")
    body = as_user(cast.nurse).get(copy_url(family.plan)).content.decode()

    for secret in (
        "Hemliga gatan",
        "99130",
        family.child.identity_number,
        family.child.identifier,
        family.mother.identity_number,
    ):
        assert secret not in body


def test_the_copy_carries_none_of_the_guardians_screening_answers(cast, family, as_user):
    """The guardians answered BarnSäkert and the nurse wrote a follow-up; the copy, made by
    the very nurse who may read all of it, shows none of it, and never queries it."""
    factories.questionnaire()
    region = factories.region_of_unit(cast.bvc)
    _, codes = screening_start(
        request=request_as(cast.nurse),
        child=family.child,
        occasion=occasions_for(region)[0],
        guardians=[family.mother, family.father],
    )
    responses = [
        response_submit(
            session=session_for_code(codes[guardian.pk]),
            language="sv",
            answers={1: "yes", 2: "no", 3: "yes"},
            idempotency_key=f"copy-{guardian.pk}",
        )
        for guardian in (family.mother, family.father)
    ]
    follow_up_record(
        request=request_as(cast.nurse),
        response=responses[0],
        conversation="HEMLIGT-SAMTAL: pappan dricker för mycket",
        summary="HEMLIG-SAMMANFATTNING",
    )

    with CaptureQueriesContext(connection) as queries:
        body = as_user(cast.nurse).get(copy_url(family.plan)).content.decode()
        pdf = as_user(cast.nurse).get(copy_url(family.plan, pdf=True)).content

    text = pdf_text(pdf)
    for secret in ("HEMLIG", "Fråga", "[sv] ja", "[sv] nej"):
        assert secret not in body and secret not in text
    assert not [q["sql"] for q in queries.captured_queries if '"screening_' in q["sql"]]


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_pdf_is_a_pdf_with_the_actions_people_and_contacts(cast, family, as_user, language):
    response = as_user(cast.nurse).get(copy_url(family.plan, language, pdf=True))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].endswith(
        f'sip-{family.plan.pk}-familjens-kopia-{language}.pdf"'
    )
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    for shown in (
        "Boka ett föräldrasamtal",
        "Föra sömndagbok",
        str(cast.family_therapist),
        "070-111 22 33",
        "bvc@ekby.example",
        "Nils Granne",
        "Ekby kommun",
    ):
        assert shown in text, shown
    assert "Hemliga gatan" not in text
    if language == "en":
        assert "Who does what" in text


def test_making_the_copy_is_audited_with_the_basis(cast, family, as_user):
    as_user(cast.family_therapist).get(copy_url(family.plan, "en"))
    as_user(cast.nurse).get(copy_url(family.plan, "sv", pdf=True))

    events = list(AccessEvent.objects.filter(action=Action.PLAN_FAMILY_COPY).order_by("seq"))
    assert [
        (e.actor_username, e.basis, e.basis_reference, e.child_id, e.allowed) for e in events
    ] == [
        ("therapist", "consent", f"consent:{family.consent.pk}", family.child.pk, True),
        ("nurse", "own_unit", "", family.child.pk, True),
    ]
    assert events[0].purpose == "sip"


@pytest.mark.parametrize(
    "name", ["plans:family_copy", "plans:family_copy_pdf", "plans:fhir_careplan", "plans:plan_end"]
)
def test_an_outsider_gets_the_same_404_as_for_a_missing_plan_and_is_logged(
    cast, family, as_user, name
):
    client = as_user(cast.outsider)
    query = "?sprak=sv" if "copy" in name else ""

    def body_of(pk: int) -> tuple[int, str]:
        url = reverse(name, args=[pk])
        response = client.get(url + query)
        return response.status_code, same_page(response.content.decode(), url)

    assert body_of(family.plan.pk) == body_of(family.plan.pk + 1000)
    assert body_of(family.plan.pk)[0] == 404
    events = AccessEvent.objects.filter(actor_username="outsider", allowed=False)
    assert events.count() == 3
    assert {e.basis for e in events} == {"none"}


def test_an_outsiders_post_to_end_the_plan_is_a_404_and_changes_nothing(cast, family, as_user):
    response = as_user(cast.outsider).post(
        reverse("plans:plan_end", args=[family.plan.pk]),
        {"guardian": family.mother.pk, "confirm": "on"},
    )

    assert response.status_code == 404
    assert Plan.objects.get(pk=family.plan.pk).status == Plan.Status.ACTIVE
    event = AccessEvent.objects.get(actor_username="outsider")
    assert (event.action, event.allowed) == (Action.PLAN_END, False)


def test_other_sectors_lose_the_copy_when_the_consent_is_withdrawn(cast, family, as_user):
    from consent.services import consent_withdraw

    consent_withdraw(request=request_as(cast.nurse), consent=family.consent, guardian=family.father)

    assert as_user(cast.family_therapist).get(copy_url(family.plan)).status_code == 404
    assert as_user(cast.nurse).get(copy_url(family.plan)).status_code == 200


@pytest.mark.parametrize("asked", ["xx", "de", "<script>"])
def test_a_language_without_a_catalogue_is_a_clear_400_before_the_plan_is_read(
    cast, family, as_user, asked
):
    client = as_user(cast.nurse)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.get(copy_url(family.plan, asked))
    pdf = client.get(copy_url(family.plan, asked, pdf=True))

    assert response.status_code == pdf.status_code == 400
    body = response.content.decode()
    assert "Language not available" in body and "<script>" not in body
    assert "?sprak=sv" in body and "?sprak=en" in body
    assert not AccessEvent.objects.filter(action=Action.PLAN_FAMILY_COPY).exists()


def test_no_language_asked_gives_the_swedish_copy(cast, family, as_user):
    response = as_user(cast.nurse).get(reverse("plans:family_copy", args=[family.plan.pk]))

    assert response.status_code == 200 and response["Content-Language"] == "sv"


def test_the_languages_are_the_catalogues_swedish_first(settings, tmp_path):
    assert [code for code, _ in copy_languages()][:2] == ["sv", "en"]
    (tmp_path / "fi" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "fi" / "LC_MESSAGES" / "django.mo").write_bytes(b"")
    settings.LOCALE_PATHS = [*settings.LOCALE_PATHS, tmp_path]

    assert ("fi", "suomi") in copy_languages()


def test_the_copy_refuses_a_language_it_has_no_catalogue_for(family):
    with pytest.raises(UnknownLanguage):
        family_copy(read_plan(family.plan), "xx")


def _grow(cast, plan: Plan, extra: int) -> None:
    version = plan.versions.get(number=plan.current_number)
    for n in range(extra):
        add_action(version, f"Extra {n}", responsible=cast.family_therapist)
        add_goal(version, f"Mål {n}")
        add_intervention(version, f"Insats {n}", provider_other="Nätverket")
        add_participant(plan, cast.nurse, kind="other", name=f"Person {n}", contact="-")
        add_participant(plan, cast.nurse, professional=cast.school_counsellor)


def test_the_copy_runs_a_fixed_number_of_queries_whatever_its_size(cast, family):
    def count() -> int:
        plan = read_plan(family.plan)
        with CaptureQueriesContext(connection) as queries:
            family_copy(plan, "sv")
        return len(queries.captured_queries)

    small = count()
    _grow(cast, family.plan, 15)
    assert count() == small
    assert len(family_copy(read_plan(family.plan), "sv").actions) == 17


def test_the_print_view_runs_a_fixed_number_of_queries_whatever_its_size(cast, family, as_user):
    client = as_user(cast.family_therapist)
    client.get(copy_url(family.plan))  # warm the session

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(copy_url(family.plan)).status_code == 200
        return len(queries.captured_queries)

    small = count()
    _grow(cast, family.plan, 12)
    assert count() == small


def test_the_ended_plans_copy_says_the_family_ended_it(cast, family, as_user):
    Plan.objects.filter(pk=family.plan.pk).update(
        status=Plan.Status.ENDED, ended_at=timezone.now(), ended_by_guardian=family.mother
    )

    copy = family_copy(read_plan(family.plan), "en")
    body = as_user(cast.nurse).get(copy_url(family.plan, "en")).content.decode()

    assert copy.is_ended and copy.next_meeting is None
    assert "The family ended the plan on" in body


def test_the_action_status_label_follows_the_copys_language(cast, family):
    copy = family_copy(read_plan(family.plan), "en")

    assert [a.status_label for a in copy.actions] == ["Planned", "Ongoing"]
    swedish = family_copy(read_plan(family.plan), "sv")
    assert [a.status_label for a in swedish.actions] == ["Planerad", "Pågår"]


def test_the_slot_links_the_copy_in_both_languages_the_export_and_ending(cast, family, rf):
    from django.template.loader import render_to_string

    from consent import policy

    plan = read_plan(family.plan)
    html = render_to_string(
        "plans/_family_actions.html",
        {
            "plan": plan,
            "version": plan.versions.get(number=plan.current_number),
            "decision": policy.decide_plan(cast.nurse, plan),
        },
    )

    for url in (
        copy_url(plan, "sv"),
        copy_url(plan, "en"),
        copy_url(plan, "sv", pdf=True),
        copy_url(plan, "en", pdf=True),
        reverse("plans:fhir_careplan", args=[plan.pk]),
        reverse("plans:plan_end", args=[plan.pk]),
    ):
        assert f'href="{url}"' in html, url


def test_a_consent_for_another_sector_only_does_not_open_the_copy(cast, as_user):
    family = sip_family(cast, sectors=(Sector.STUDENT_HEALTH,))

    assert as_user(cast.family_therapist).get(copy_url(family.plan)).status_code == 404
    assert as_user(cast.school_counsellor).get(copy_url(family.plan)).status_code == 200
