"""The consent pages: the child's consents, recording, giving, withdrawing, printable forms."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from audit.models import AccessEvent, Action
from consent import forms as consent_forms
from consent import policy
from consent.models import Consent, ConsentScope, GuardianConsent
from consent.policy import Basis, Purpose
from consent.services import ConsentError, consent_form_text, consent_record
from directory.models import Sector
from families.models import Child, Custody, Guardian
from tests import factories

pytestmark = pytest.mark.django_db

WITHDRAWAL = (
    "The consent is voluntary. You can withdraw it at any time, in whole. It then stops at "
    "once: nothing more is shared. What each organisation has already written stays in its "
    "own records, as the law requires."
)


@pytest.fixture(autouse=True)
def _afternoon():
    """A fixed afternoon: `factories.consent` records at noon (UTC) of the day, so before
    noon its consents would not yet be in force."""
    moment = datetime.datetime(2026, 3, 10, 14, 0, tzinfo=datetime.UTC)
    with time_machine.travel(moment, tick=True):
        yield


@pytest.fixture
def family(cast):
    """A child of the BVC and the preschool, with two guardians in joint custody."""
    child = factories.child(bvc=cast.bvc, school=cast.preschool, first_name="Elsa")
    mother, father = factories.guardian_of(child), factories.guardian_of(child)
    Guardian.objects.filter(pk=mother.pk).update(first_name="Maria")
    Guardian.objects.filter(pk=father.pk).update(first_name="Johan")
    mother.refresh_from_db()
    father.refresh_from_db()
    return child, mother, father


def _exchange(cast, child, state="effective", sectors=(Sector.SOCIAL_SERVICES,)):
    return factories.consent(
        child, cast.nurse, Purpose.INFORMATION_EXCHANGE, state=state, sectors=list(sectors)
    )


def _body(response) -> str:
    return response.content.decode()


# --- the child's consents ------------------------------------------------------------------


def test_the_child_page_links_to_the_childs_consents(cast, as_user, family):
    child, _, _ = family
    response = as_user(cast.nurse).get(reverse("families:child_detail", args=[child.pk]))
    assert reverse("consent:child_consents", args=[child.pk]) in _body(response)


def test_the_consent_list_shows_purpose_scope_validity_state_and_guardians(cast, as_user, family):
    child, mother, father = family
    exchange = _exchange(cast, child)
    team = factories.consent(
        child,
        cast.nurse,
        Purpose.TEAM_DISCUSSION,
        state="one_of_two",
        team=cast.bht_team,
        units=[cast.social],
    )
    response = as_user(cast.nurse).get(reverse("consent:child_consents", args=[child.pk]))
    body = _body(response)
    assert response.status_code == 200
    rows = {row.consent.pk: row for row in response.context["rows"]}
    assert rows[exchange.pk].state == Consent.State.EFFECTIVE
    assert rows[team.pk].state == Consent.State.PENDING
    assert [g.guardian for g in rows[exchange.pk].given] == [mother, father]
    with translation.override("en"):
        for text in [
            str(Purpose.INFORMATION_EXCHANGE.label),
            str(Purpose.TEAM_DISCUSSION.label),
            str(Sector.SOCIAL_SERVICES.label),
            str(Consent.State.EFFECTIVE.label),
            str(Consent.State.PENDING.label),
        ]:
            assert text in body, text
    assert cast.bht_team.name in body and cast.social.name in body
    assert exchange.valid_from.isoformat() in body and exchange.valid_until.isoformat() in body
    assert mother.full_name in body and father.full_name in body
    assert reverse("consent:give", args=[team.pk]) in body
    assert reverse("consent:withdraw", args=[exchange.pk]) in body
    event = AccessEvent.objects.get(action=Action.VIEW_CONSENT)
    assert (event.child_id, event.allowed, event.basis, event.actor_username) == (
        child.pk,
        True,
        Basis.OWN_UNIT,
        "nurse",
    )


def test_the_guardian_who_has_not_given_a_consent_is_shown_as_missing(cast, as_user, family):
    child, mother, father = family
    consent = _exchange(cast, child, state="one_of_two")
    response = as_user(cast.nurse).get(reverse("consent:child_consents", args=[child.pk]))
    (row,) = response.context["rows"]
    assert row.state == Consent.State.PENDING
    assert row.missing == [father] and [g.guardian for g in row.given] == [mother]
    missing = re.search(r'<dd class="missing">(.*?)</dd>', _body(response), re.S)
    assert missing and father.full_name in missing.group(1)
    assert mother.full_name not in missing.group(1)
    assert consent.state() == Consent.State.PENDING


def test_the_childs_view_is_shown_with_the_childs_age_when_asked(cast, family, as_user):
    from conftest import request_as

    child, _, _ = family
    child.birth_date = timezone.localdate() - relativedelta(years=9, days=3)
    child.save()
    consent_record(
        request=request_as(cast.nurse),
        child=child,
        purpose=Purpose.SIP,
        sectors=[Sector.SOCIAL_SERVICES],
        child_view="Jag vill att fröken får veta.",
    )
    body = _body(as_user(cast.nurse).get(reverse("consent:child_consents", args=[child.pk])))
    assert "Jag vill att fröken får veta." in body
    assert re.search(r"\b9\b", body.split("Jag vill")[0][-400:])


def test_another_sector_with_consent_sees_the_list_but_records_nothing(cast, as_user, family):
    child, _, _ = family
    consent = _exchange(cast, child)
    client = as_user(cast.family_therapist)
    response = client.get(reverse("consent:child_consents", args=[child.pk]))
    assert response.status_code == 200
    assert response.context["decision"].basis == Basis.CONSENT
    assert reverse("consent:record", args=[child.pk]) not in _body(response)
    for url in [
        reverse("consent:record", args=[child.pk]),
        reverse("consent:blank_form", args=[child.pk]),
        reverse("consent:give", args=[consent.pk]),
    ]:
        assert client.get(url).status_code == 404, url
    assert Consent.objects.get(pk=consent.pk).state() == Consent.State.EFFECTIVE
    refused = AccessEvent.objects.filter(allowed=False, actor_username="therapist")
    assert refused.count() == 3 and {e.child_id for e in refused} == {child.pk}


def test_a_guardian_may_withdraw_through_a_professional_the_consent_reaches(cast, as_user, family):
    """The form tells guardians they can tell anyone who receives the information."""
    child, _, _ = family
    consent = _exchange(cast, child)
    client = as_user(cast.family_therapist)
    page = client.get(reverse("consent:child_consents", args=[child.pk]))
    assert reverse("consent:withdraw", args=[consent.pk]) in _body(page)
    giver = consent.givings.first().guardian
    response = client.post(
        reverse("consent:withdraw", args=[consent.pk]), {"guardian": giver.pk, "confirm": "on"}
    )
    assert response.status_code in (200, 302)
    assert Consent.objects.get(pk=consent.pk).state() == Consent.State.WITHDRAWN
    # ...and with that the therapist's own access ends at once.
    assert client.get(reverse("families:child_detail", args=[child.pk])).status_code == 404


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("consent:child_consents", "child"),
        ("consent:record", "child"),
        ("consent:blank_form", "child"),
        ("consent:give", "consent"),
        ("consent:withdraw", "consent"),
        ("consent:form", "consent"),
    ],
)
def test_an_outsider_gets_a_404_and_the_attempt_is_logged(cast, as_user, family, name, target):
    child, _, _ = family
    consent = _exchange(cast, child, state="one_of_two")
    before = AccessEvent.objects.count()
    url = reverse(name, args=[child.pk if target == "child" else consent.pk])
    client = as_user(cast.outsider)
    assert client.get(url).status_code == 404
    assert client.post(url, {"guardian": 1, "confirm": "on"}).status_code in (404, 405)
    denied = AccessEvent.objects.filter(allowed=False, actor_username="outsider").first()
    assert denied is not None and AccessEvent.objects.count() > before
    assert (denied.child_id, denied.basis, denied.child_identifier) == (child.pk, "none", "")
    assert Consent.objects.get(pk=consent.pk).givings.count() == 1


def test_a_missing_consent_is_a_404_like_a_forbidden_one(cast, as_user, family):
    child, _, _ = family
    consent = _exchange(cast, child)
    client = as_user(cast.outsider)
    forbidden_url = reverse("consent:form", args=[consent.pk])
    missing_url = reverse("consent:form", args=[consent.pk + 1000])
    forbidden, missing = client.get(forbidden_url), client.get(missing_url)
    assert forbidden.status_code == missing.status_code == 404

    def page(response, url):
        body = response.content.decode().replace(url, "PATH")
        return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "CSRF", body)

    assert page(forbidden, forbidden_url) == page(missing, missing_url)


def test_the_consent_list_runs_the_same_number_of_queries_for_1_and_5_consents(
    cast, as_user, family
):
    child, _, _ = family
    client = as_user(cast.nurse)
    url = reverse("consent:child_consents", args=[child.pk])
    _exchange(cast, child)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return len(queries)

    with_one = count()
    _exchange(cast, child, state="withdrawn", sectors=[Sector.SCHOOL, Sector.SOCIAL_SERVICES])
    factories.consent(
        child, cast.nurse, Purpose.TEAM_DISCUSSION, state="one_of_two", team=cast.bht_team,
        units=[cast.social, cast.student_health],
    )  # fmt: skip
    factories.consent(
        child, cast.nurse, Purpose.REFERRAL, state="none", service=cast.child_psychologist
    )
    factories.consent(child, cast.nurse, Purpose.SIP, state="expired", sectors=[Sector.SCHOOL])
    assert Consent.objects.filter(child=child).count() == 5
    assert count() == with_one


# --- recording ------------------------------------------------------------------------------


def _record_data(**overrides):
    data = {
        "purpose": Purpose.INFORMATION_EXCHANGE,
        "sectors": [Sector.SOCIAL_SERVICES, Sector.STUDENT_HEALTH],
        "valid_from": "",
        "valid_until": "",
        "child_view": "Det är okej.",
        "lang": "sv",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_the_record_form_shows_the_default_validity_and_the_childs_age(cast, as_user, family):
    child, _, _ = family
    response = as_user(cast.nurse).get(reverse("consent:record", args=[child.pk]))
    assert response.status_code == 200
    today = timezone.localdate()
    default_end = today + relativedelta(months=12)
    assert f'value="{default_end.isoformat()}"' in _body(response)
    assert response.context["age"] == today.year - child.birth_date.year - (
        (today.month, today.day) < (child.birth_date.month, child.birth_date.day)
    )


def test_the_record_form_says_in_which_municipality_the_sectors_may_receive(cast, as_user, family):
    child, _, _ = family
    response = as_user(cast.nurse).get(reverse("consent:record", args=[child.pk]))
    assert response.context["form"].fields["sectors"].help_text == "Within Ekby kommun."
    assert "Within Ekby kommun." in _body(response)


def test_a_nurse_records_a_consent_with_its_scope_snapshot_and_audit(cast, as_user, family):
    child, _, _ = family
    response = as_user(cast.nurse).post(
        reverse("consent:record", args=[child.pk]),
        _record_data(units=[cast.social.pk], lang="en"),
    )
    consent = Consent.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("consent:give", args=[consent.pk])
    today = timezone.localdate()
    assert (consent.valid_from, consent.valid_until) == (today, today + relativedelta(months=12))
    assert (consent.recorded_by, consent.recorded_unit) == (cast.nurse, cast.bvc)
    assert consent.form_language == "en" and consent.child_view == "Det är okej."
    # The sectors are those of the recording unit's municipality, and the text says so.
    home = cast.bvc.municipality_id
    assert {
        (s.sector, s.municipality_id, s.unit_id)
        for s in ConsentScope.objects.filter(consent=consent)
    } == {
        (Sector.SOCIAL_SERVICES, home, None),
        (Sector.STUDENT_HEALTH, home, None),
        ("", None, cast.social.pk),
    }
    assert child.full_name in consent.form_text and "Information exchange" in consent.form_text
    assert "- Social services in Ekby kommun" in consent.form_text
    assert consent.state() == Consent.State.PENDING
    assert AccessEvent.objects.filter(action=Action.CONSENT_RECORD, allowed=True).count() == 1


def test_a_referral_consent_names_the_service_and_its_unit_receives_it(cast, as_user, family):
    child, _, _ = family
    as_user(cast.nurse).post(
        reverse("consent:record", args=[child.pk]),
        _record_data(purpose=Purpose.REFERRAL, sectors=[], service=cast.child_psychologist.pk),
    )
    consent = Consent.objects.get()
    assert consent.service == cast.child_psychologist
    assert [s.unit for s in consent.scopes.all()] == [cast.psychology]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"purpose": Purpose.TEAM_DISCUSSION}, "team"),
        ({"team": "BHT"}, "team"),
        ({"purpose": Purpose.REFERRAL}, "service"),
        ({"service": "PSY"}, "service"),
        ({"sectors": []}, "sectors"),
        ({"sectors": ["space_agency"]}, "sectors"),
        ({"units": ["99999999"]}, "units"),
        ({"units": ["x"]}, "units"),
        ({"units": ["OTHER"]}, "units"),
        ({"purpose": Purpose.CARE}, "purpose"),
        ({"valid_from": "YESTERDAY"}, "valid_from"),
        ({"valid_from": "2026-13-45"}, "valid_from"),
        ({"valid_until": "YESTERDAY"}, "valid_until"),
        ({"valid_until": "9999-12-31"}, "valid_until"),
        ({"lang": "de"}, "lang"),
        ({"child_view": "x" * 4001}, "child_view"),
    ],
)
def test_bad_record_input_gives_a_clear_error_and_changes_nothing(
    cast, as_user, family, overrides, field
):
    child, _, _ = family
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    aliases = {
        "BHT": cast.bht_team.pk,
        "PSY": cast.child_psychologist.pk,
        "YESTERDAY": yesterday,
    }
    data = {}
    for key, value in overrides.items():
        if value == ["OTHER"]:
            value = [cast.other_bvc.pk]  # another municipality's unit is not offered
        data[key] = aliases.get(value, value) if isinstance(value, str) else value
    before = (Consent.objects.count(), ConsentScope.objects.count())
    response = as_user(cast.nurse).post(
        reverse("consent:record", args=[child.pk]), _record_data(**data)
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert (Consent.objects.count(), ConsentScope.objects.count()) == before
    assert not AccessEvent.objects.filter(action=Action.CONSENT_RECORD).exists()


def test_a_refusal_from_the_service_becomes_a_form_error(cast, as_user, family, monkeypatch):
    child, _, _ = family

    def refuse(**kwargs):
        raise ConsentError("Only the child's own units record consents.")

    monkeypatch.setattr("consent.views.consent_record", refuse)
    response = as_user(cast.nurse).post(reverse("consent:record", args=[child.pk]), _record_data())
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Only the child's own units record consents."
    ]
    assert not Consent.objects.exists()


# --- giving ---------------------------------------------------------------------------------


def test_the_consent_comes_into_force_when_the_last_guardian_gives_it(cast, as_user, family):
    child, mother, father = family
    consent = _exchange(cast, child, state="none")
    client = as_user(cast.nurse)
    url = reverse("consent:give", args=[consent.pk])
    page = client.get(url)
    assert page.status_code == 200 and page.context["missing"] == [mother, father]
    first = client.post(url, {"guardian": mother.pk, "method": GuardianConsent.Method.TABLET})
    assert first.status_code == 302 and first.url == url
    consent.refresh_from_db()
    assert consent.state() == Consent.State.PENDING
    second = client.post(url, {"guardian": father.pk, "method": GuardianConsent.Method.TABLET})
    assert second.url == reverse("consent:child_consents", args=[child.pk])
    consent.refresh_from_db()
    assert consent.state() == Consent.State.EFFECTIVE
    assert policy.decide_child(cast.family_therapist, child, Purpose.CARE).allowed
    assert AccessEvent.objects.filter(action=Action.CONSENT_GIVE, allowed=True).count() == 2


def test_verbal_consent_without_a_witness_is_refused_and_nothing_is_saved(cast, as_user, family):
    child, mother, _ = family
    consent = _exchange(cast, child, state="none")
    response = as_user(cast.nurse).post(
        reverse("consent:give", args=[consent.pk]),
        {"guardian": mother.pk, "method": GuardianConsent.Method.VERBAL, "witness": "  "},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["witness"] == [
        "Verbal consent needs a witness: name who also heard it."
    ]
    assert not GuardianConsent.objects.filter(consent=consent).exists()
    assert not AccessEvent.objects.filter(action=Action.CONSENT_GIVE).exists()


def test_verbal_consent_with_a_witness_is_recorded(cast, as_user, family):
    child, mother, _ = family
    consent = _exchange(cast, child, state="none")
    as_user(cast.nurse).post(
        reverse("consent:give", args=[consent.pk]),
        {
            "guardian": mother.pk,
            "method": GuardianConsent.Method.VERBAL,
            "witness": "Eva Ek, BVC-sjuksköterska",
        },
    )
    giving = GuardianConsent.objects.get(consent=consent)
    assert (giving.guardian, giving.witness) == (mother, "Eva Ek, BVC-sjuksköterska")


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def test_a_signed_form_is_uploaded_under_a_name_that_says_nothing(
    cast, as_user, family, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    child, mother, _ = family
    consent = _exchange(cast, child, state="none")
    upload = SimpleUploadedFile("Maria samtycke.pdf", PDF, content_type="application/pdf")
    response = as_user(cast.nurse).post(
        reverse("consent:give", args=[consent.pk]),
        {"guardian": mother.pk, "method": GuardianConsent.Method.SIGNED_FORM, "document": upload},
    )
    assert response.status_code == 302
    giving = GuardianConsent.objects.get(consent=consent)
    assert giving.method == GuardianConsent.Method.SIGNED_FORM
    assert re.fullmatch(r"consents/\d{4}/[0-9a-f]{32}\.pdf", giving.document.name)
    assert (tmp_path / giving.document.name).read_bytes() == PDF


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("form.txt", b"I agree", "text/plain"),
        ("form.pdf", b"I agree, honestly", "application/pdf"),  # says PDF, is not
        ("form.png", PDF, "image/png"),  # a PDF that says it is a PNG
        ("form.html", b"<script>alert(1)</script>", "text/html"),
    ],
)
def test_a_signed_form_of_the_wrong_type_is_refused(
    cast, as_user, family, settings, tmp_path, name, content, content_type
):
    settings.MEDIA_ROOT = tmp_path
    child, mother, _ = family
    consent = _exchange(cast, child, state="none")
    response = as_user(cast.nurse).post(
        reverse("consent:give", args=[consent.pk]),
        {
            "guardian": mother.pk,
            "method": GuardianConsent.Method.SIGNED_FORM,
            "document": SimpleUploadedFile(name, content, content_type=content_type),
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["document"] == [
        "Upload the signed form as a PDF, JPEG or PNG file."
    ]
    assert not GuardianConsent.objects.exists() and not list(tmp_path.rglob("*.*"))


def test_a_signed_form_that_is_too_large_or_missing_is_refused(
    cast, as_user, family, settings, tmp_path, monkeypatch
):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(consent_forms, "DOCUMENT_MAX_BYTES", 20)
    child, mother, _ = family
    consent = _exchange(cast, child, state="none")
    url = reverse("consent:give", args=[consent.pk])
    client = as_user(cast.nurse)
    big = SimpleUploadedFile("form.pdf", PDF, content_type="application/pdf")
    data = {"guardian": mother.pk, "method": GuardianConsent.Method.SIGNED_FORM}
    too_large = client.post(url, {**data, "document": big})
    assert too_large.context["form"].errors["document"] == ["The file is too large: at most 10 MB."]
    missing = client.post(url, data)
    assert missing.context["form"].errors["document"] == ["Upload the signed form."]
    assert not GuardianConsent.objects.exists()


def test_a_guardian_who_gave_already_or_has_no_custody_cannot_give_again(cast, as_user, family):
    child, mother, _ = family
    consent = _exchange(cast, child, state="one_of_two")
    stranger = factories.guardian_of(factories.child(bvc=cast.bvc))
    url = reverse("consent:give", args=[consent.pk])
    for guardian in [mother, stranger]:
        response = as_user(cast.nurse).post(
            url, {"guardian": guardian.pk, "method": GuardianConsent.Method.TABLET}
        )
        assert "guardian" in response.context["form"].errors
    assert GuardianConsent.objects.filter(consent=consent).count() == 1


def test_a_withdrawn_consent_cannot_be_given(cast, as_user, family):
    child, _, father = family
    consent = _exchange(cast, child, state="withdrawn")
    response = as_user(cast.nurse).post(
        reverse("consent:give", args=[consent.pk]),
        {"guardian": father.pk, "method": GuardianConsent.Method.TABLET},
    )
    assert response.status_code == 200 and not response.context["is_open"]
    assert consent.givings.filter(withdrawn_at__isnull=True).count() == 1  # father's, still


# --- withdrawing ----------------------------------------------------------------------------


def test_withdrawal_takes_effect_at_once(cast, as_user, family):
    child, mother, _ = family
    consent = _exchange(cast, child)
    therapist = as_user(cast.family_therapist)
    list_url = reverse("consent:child_consents", args=[child.pk])
    decision = policy.decide_child(cast.family_therapist, child, Purpose.CARE)
    assert decision.allowed and decision.reference == f"consent:{consent.pk}"
    assert therapist.get(list_url).status_code == 200

    response = as_user(cast.nurse).post(
        reverse("consent:withdraw", args=[consent.pk]), {"guardian": mother.pk, "confirm": "on"}
    )
    assert response.status_code == 302 and response.url == list_url
    assert not policy.decide_child(cast.family_therapist, child, Purpose.CARE).allowed
    assert not Child.objects.visible_to(cast.family_therapist).exists()
    assert therapist.get(list_url).status_code == 404
    consent.refresh_from_db()
    assert consent.state() == Consent.State.WITHDRAWN and consent.withdrawn_by == mother
    assert AccessEvent.objects.filter(action=Action.CONSENT_WITHDRAW, allowed=True).count() == 1


def test_withdrawal_closes_open_referrals_and_says_how_many(cast, as_user, family):
    from cases.models import Concern, Referral

    child, _, father = family
    consent = factories.consent(
        child, cast.nurse, Purpose.REFERRAL, service=cast.child_psychologist
    )
    now = timezone.now()
    concern = Concern.objects.create(
        created_by=cast.nurse,
        unit=cast.bvc,
        sector=Sector.CHILD_HEALTH,
        age_band="3-6",
        worry="Sover dåligt",
        child=child,
        identified_at=now,
    )
    referral = Referral.objects.create(
        concern=concern,
        child=child,
        service=cast.child_psychologist,
        consent=consent,
        created_by=cast.nurse,
        unit=cast.bvc,
        sent_at=now,
    )
    response = as_user(cast.nurse).post(
        reverse("consent:withdraw", args=[consent.pk]),
        {"guardian": father.pk, "confirm": "on"},
        follow=True,
    )
    referral.refresh_from_db()
    assert referral.outcome == Referral.Outcome.WITHDRAWN and referral.closed_at is not None
    shown = [str(m) for m in response.context["messages"]]
    assert "1 open referral under it was withdrawn." in shown


def test_withdrawal_needs_a_confirmation_and_a_consenting_guardian(cast, as_user, family):
    child, mother, father = family
    consent = _exchange(cast, child, state="one_of_two")
    client = as_user(cast.nurse)
    url = reverse("consent:withdraw", args=[consent.pk])
    unconfirmed = client.post(url, {"guardian": mother.pk})
    assert unconfirmed.context["form"].errors["confirm"] == [
        "Confirm that the guardian withdraws the consent."
    ]
    not_given = client.post(url, {"guardian": father.pk, "confirm": "on"})
    assert "guardian" in not_given.context["form"].errors
    consent.refresh_from_db()
    assert consent.withdrawn_at is None and not AccessEvent.objects.filter(
        action=Action.CONSENT_WITHDRAW
    )


# --- printable forms ------------------------------------------------------------------------


def test_the_printable_form_shows_the_agreed_text_and_a_signature_line_per_guardian(
    cast, as_user, family
):
    child, mother, father = family
    consent = _exchange(cast, child, state="none")
    response = as_user(cast.nurse).get(reverse("consent:form", args=[consent.pk]))
    body = _body(response)
    assert response.status_code == 200
    assert response.context["agreed"] and response.context["lang"] == consent.form_language
    assert response.context["text"] == consent.form_text
    signatures = body.split('class="signatures"')[1]
    assert mother.full_name in signatures and father.full_name in signatures
    assert 'class="no-print"' in body and "css/consent.css" in body
    assert AccessEvent.objects.filter(action=Action.VIEW_CONSENT, allowed=True).exists()


def test_the_agreed_text_stays_when_the_form_template_changes(
    cast, as_user, family, settings, tmp_path
):
    child, _, _ = family
    consent = _exchange(cast, child)  # recorded in Swedish
    agreed = consent.form_text
    (tmp_path / "consent").mkdir()
    (tmp_path / "consent" / "form_text.txt").write_text("A NEW TEXT FOR {{ purpose }}")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]

    client = as_user(cast.nurse)
    swedish = client.get(reverse("consent:form", args=[consent.pk]), {"lang": "sv"})
    english = client.get(reverse("consent:form", args=[consent.pk]), {"lang": "en"})
    consent.refresh_from_db()
    assert consent.form_text == agreed
    assert swedish.context["text"] == agreed and "A NEW TEXT" not in _body(swedish)
    # The other language is rendered anew (a translation), and says it is not the agreed text.
    assert not english.context["agreed"] and "A NEW TEXT FOR" in english.context["text"]
    assert 'class="signatures"' not in _body(english)


def test_a_translation_of_a_recorded_consent_differs_only_in_language(cast, as_user, family):
    child, _, _ = family
    consent = _exchange(cast, child)
    english = as_user(cast.nurse).get(reverse("consent:form", args=[consent.pk]), {"lang": "en"})
    assert english.context["text"] != consent.form_text
    for text in (consent.form_text, english.context["text"]):
        assert consent.valid_until.isoformat() in text and child.identifier in text
    rerendered = consent_form_text(
        child=child,
        purpose=consent.purpose,
        team=None,
        service=None,
        sectors=[Sector.SOCIAL_SERVICES],
        units=[],
        valid_from=consent.valid_from,
        valid_until=consent.valid_until,
        language="sv",
        contact=cast.bvc,
    )
    assert rerendered == consent.form_text  # same template, same language: the same text


def _blank(client, child, **params):
    return client.get(reverse("consent:blank_form", args=[child.pk]), params)


def test_the_swedish_and_english_blank_forms_differ_and_state_the_period_and_how_to_withdraw(
    cast, as_user, family
):
    child, mother, father = family
    client = as_user(cast.nurse)
    start = timezone.localdate() + datetime.timedelta(days=2)
    params = {
        "purpose": Purpose.INFORMATION_EXCHANGE,
        "sectors": [Sector.SOCIAL_SERVICES],
        "valid_from": start.isoformat(),
    }
    texts = {}
    for lang in ["sv", "en"]:
        response = _blank(client, child, lang=lang, **params)
        assert response.status_code == 200 and response.context["form"].is_valid()
        text = texts[lang] = response.context["text"]
        body = _body(response)
        assert f'lang="{lang}"' in body and text.split("\n")[0] in body
        assert start.isoformat() in text
        assert (start + relativedelta(months=12)).isoformat() in text
        with translation.override(lang):
            assert gettext(WITHDRAWAL) in text
            assert str(Purpose.INFORMATION_EXCHANGE.label) in text
            assert str(Sector.SOCIAL_SERVICES.label) in text
        assert cast.bvc.name in text  # whom to tell
        assert mother.full_name in body and father.full_name in body  # signature lines
    assert texts["sv"] != texts["en"]
    assert not Consent.objects.exists()


@pytest.mark.parametrize(
    "params",
    [
        {"purpose": "nonsense"},
        {"purpose": "referral", "lang": "sv"},
        {"purpose": "information_exchange", "sectors": "x", "lang": "en"},
        {"purpose": "sip", "units": "99999999999999999999", "lang": "sv"},
        {"purpose": "sip", "units": "-1", "lang": "sv"},
        {"purpose": "sip", "sectors": "school", "team": "abc", "lang": "sv"},
        {"purpose": "sip", "sectors": "school", "valid_from": "9999-12-31", "lang": "sv"},
        {"purpose": "sip", "sectors": "school", "valid_until": "2020-02-30", "lang": "sv"},
        {"purpose": "sip", "sectors": "school", "lang": "de"},
        {"lang": "en"},
    ],
)
def test_bad_blank_form_parameters_give_form_errors_not_a_server_error(
    cast, as_user, family, params
):
    child, _, _ = family
    response = _blank(as_user(cast.nurse), child, **params)
    assert response.status_code == 200
    assert response.context["form"].errors and response.context["text"] == ""
    assert 'class="error-summary"' in _body(response)


def test_the_blank_form_without_parameters_shows_only_the_choices(cast, as_user, family):
    child, _, _ = family
    response = _blank(as_user(cast.nurse), child)
    assert response.status_code == 200
    assert not response.context["form"].is_bound and response.context["text"] == ""


def test_an_unknown_form_language_is_an_error_and_the_agreed_text_is_shown(cast, as_user, family):
    child, _, _ = family
    consent = _exchange(cast, child)
    response = as_user(cast.nurse).get(reverse("consent:form", args=[consent.pk]), {"lang": "<x>"})
    assert response.status_code == 200 and response.context["form"].errors
    assert response.context["text"] == consent.form_text


def test_the_consent_pages_carry_no_inline_script_or_style(cast, as_user, family):
    child, _, _ = family
    consent = _exchange(cast, child, state="one_of_two")
    client = as_user(cast.nurse)
    urls = [
        reverse("consent:child_consents", args=[child.pk]),
        reverse("consent:record", args=[child.pk]),
        reverse("consent:blank_form", args=[child.pk]) + "?purpose=sip&sectors=school&lang=en",
        reverse("consent:give", args=[consent.pk]),
        reverse("consent:withdraw", args=[consent.pk]),
        reverse("consent:form", args=[consent.pk]),
    ]
    for url in urls:
        body = _body(client.get(url))
        assert "<script" not in body and "<style" not in body and " style=" not in body, url


def test_custody_with_one_guardian_needs_only_that_guardian(cast, as_user):
    child = factories.child(bvc=cast.bvc)
    only = factories.guardian_of(child, kind=Custody.Kind.SOLE)
    consent = _exchange(cast, child, state="none")
    as_user(cast.nurse).post(
        reverse("consent:give", args=[consent.pk]),
        {"guardian": only.pk, "method": GuardianConsent.Method.TABLET},
    )
    consent.refresh_from_db()
    assert consent.state() == Consent.State.EFFECTIVE
