"""The FHIR R4 export: a questionnaire in any language and one guardian's answers, checked
against the R4 models of `fhir.resources` (its R4B package), and who may fetch them."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from django.urls import reverse
from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire
from fhir.resources.R4B.questionnaireresponse import (
    QuestionnaireResponse as FhirQuestionnaireResponse,
)

from audit.models import AccessEvent, Action
from conftest import request_as
from consent.policy import Purpose
from directory.models import Sector
from screening.fhir import (
    ANSWER_SYSTEM,
    DOMAIN_EXTENSION,
    POSITIVE_EXTENSION,
    MissingTranslation,
    questionnaire_resource,
    questionnaire_response_resource,
)
from screening.languages import REQUIRED
from screening.models import Domain, QuestionnaireVersion, Response
from screening.questionnaire_files import questionnaire_file_read, questionnaire_load
from screening.services import occasions_for, response_submit, screening_start, session_for_code
from tests import factories

pytestmark = pytest.mark.django_db

SHIPPED = Path(__file__).resolve().parents[1] / "questionnaires" / "barnsakert-exempel-v1.toml"


@pytest.fixture
def version(db):
    return questionnaire_load(questionnaire_file_read(SHIPPED), publish=True).version


@pytest.fixture
def answered(cast, version):
    """Both guardians answered; returns (child, mother, father, the mother's response)."""
    region = factories.region_of_unit(cast.bvc)
    child = factories.child(bvc=cast.bvc)
    mother, father = factories.guardian_of(child), factories.guardian_of(child)
    _, codes = screening_start(
        request=request_as(cast.nurse),
        child=child,
        occasion=occasions_for(region)[0],
        guardians=[mother, father],
    )
    responses = {}
    for guardian, answers in ((mother, {1: "no", 2: "no_car", 16: "yes"}), (father, {1: "yes"})):
        session = session_for_code(codes[guardian.pk])
        responses[guardian.pk] = response_submit(
            session=session,
            language="ti" if guardian == mother else "sv",
            answers=answers,
            idempotency_key=f"key-{guardian.pk}",
        )
    return child, mother, father, responses[mother.pk]


@pytest.mark.parametrize("language", REQUIRED)
def test_the_questionnaire_is_valid_fhir_in_every_language(version, language):
    resource = questionnaire_resource(version, language)

    parsed = FhirQuestionnaire.model_validate(resource)

    assert parsed.status == "active" and parsed.version == "1" and parsed.experimental is True
    assert parsed.url.endswith("/Questionnaire/barnsakert-exempel")
    assert [item.linkId for item in parsed.item] == [str(n) for n in range(1, 19)]
    domains = Counter(item.extension[0].valueCoding.code for item in parsed.item)
    assert domains == {domain: 3 for domain in Domain.values}
    for item, stored in zip(parsed.item, version.items.order_by("number"), strict=True):
        text = stored.texts.get(language=language)
        assert item.type == "choice" and item.text == text.text
        assert item.extension[0].url == DOMAIN_EXTENSION
        assert [o.valueCoding.code for o in item.answerOption] == stored.options
        assert [o.valueCoding.display for o in item.answerOption] == [
            text.option_labels[code] for code in stored.options
        ]
        assert {o.valueCoding.system for o in item.answerOption} == {ANSWER_SYSTEM}
        flagged = [
            o.valueCoding.code
            for o in item.answerOption
            if any(e.url == POSITIVE_EXTENSION and e.valueBoolean for e in o.extension or [])
        ]
        assert flagged == [code for code in stored.options if code in stored.positive]


def test_a_language_without_every_text_has_no_questionnaire():
    version = factories.questionnaire(languages=("sv", "en"))

    with pytest.raises(MissingTranslation):
        questionnaire_resource(version, "ti")


def test_the_response_is_valid_fhir_and_skipped_items_have_no_answer(answered, version):
    child, _, _, response = answered

    resource = questionnaire_response_resource(response)
    parsed = FhirQuestionnaireResponse.model_validate(resource)

    assert parsed.status == "completed" and parsed.subject.reference == f"Patient/{child.pk}"
    assert parsed.questionnaire == f"{questionnaire_resource(version, 'sv')['url']}|1"
    assert parsed.authored is not None and parsed.language == "ti"
    by_link = {item.linkId: item for item in parsed.item}
    assert list(by_link) == [str(n) for n in range(1, 19)]
    assert by_link["1"].answer[0].valueCoding.code == "no"
    assert by_link["2"].answer[0].valueCoding.code == "no_car"
    assert by_link["16"].answer[0].valueCoding.display == "እወ"  # as the guardian saw it
    assert by_link["3"].answer is None and by_link["17"].answer is None


def test_the_response_names_no_guardian(answered):
    _, mother, father, response = answered

    resource = questionnaire_response_resource(response)

    text = json.dumps(resource, ensure_ascii=False)
    assert not {"author", "source", "contained"} & set(resource)
    for guardian in (mother, father):
        assert guardian.identity_number not in text and guardian.last_name not in text
    assert "RelatedPerson" not in text


def test_the_childs_nurse_fetches_the_response_and_the_read_is_logged(as_user, cast, answered):
    child, _, _, response = answered

    page = as_user(cast.nurse).get(reverse("screening:fhir_response", args=[response.pk]))

    assert page.status_code == 200 and page["Content-Type"].startswith("application/fhir+json")
    assert page.json() == questionnaire_response_resource(response)
    event = AccessEvent.objects.order_by("-seq").first()
    assert (event.action, event.allowed, event.child_id) == (Action.VIEW_SCREENING, True, child.pk)
    assert event.actor_username == "nurse"


@pytest.mark.parametrize("user", ["family_therapist", "special_educator", "outsider"])
def test_anyone_but_the_childs_bvc_gets_a_404_like_a_missing_response(
    as_user, cast, answered, user
):
    *_, response = answered
    client = as_user(getattr(cast, user))

    urls = [reverse("screening:fhir_response", args=[pk]) for pk in (response.pk, 10**9)]
    pages = {url: client.get(url) for url in urls}  # forbidden, missing

    assert {page.status_code for page in pages.values()} == {404}
    forbidden, missing = (
        re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "CSRF", page.content.decode())
        for page in pages.values()
    )
    assert forbidden.replace(urls[0], "PATH") == missing.replace(urls[1], "PATH")
    reads = AccessEvent.objects.filter(action=Action.VIEW_SCREENING)
    assert [event.allowed for event in reads] == [False, False]


def test_a_consent_to_share_with_social_services_does_not_open_the_answers(as_user, cast, answered):
    child, *_, response = answered
    factories.consent(
        child, cast.nurse, Purpose.INFORMATION_EXCHANGE, sectors=[Sector.SOCIAL_SERVICES]
    )
    client = as_user(cast.family_therapist)
    assert client.get(reverse("families:child_detail", args=[child.pk])).status_code == 200

    page = client.get(reverse("screening:fhir_response", args=[response.pk]))

    assert page.status_code == 404
    event = AccessEvent.objects.filter(action=Action.VIEW_SCREENING).get()
    assert (event.allowed, event.child_id) == (False, child.pk)


def test_any_professional_reads_the_questionnaire_in_a_language_it_has(as_user, cast, version):
    client = as_user(cast.outsider)
    url = reverse("screening:fhir_questionnaire", args=[version.pk])

    swedish = client.get(url)
    tigrinya = client.get(url, {"lang": "ti"})

    assert swedish.status_code == tigrinya.status_code == 200
    assert swedish["Content-Type"].startswith("application/fhir+json")
    FhirQuestionnaire.model_validate(tigrinya.json())
    assert swedish.json()["language"] == "sv" and tigrinya.json()["language"] == "ti"
    assert client.get(url, {"lang": "xx"}).status_code == 404
    sparse = factories.questionnaire(languages=("sv", "en"))
    sparse_url = reverse("screening:fhir_questionnaire", args=[sparse.pk])
    assert client.get(sparse_url, {"lang": "ti"}).status_code == 404
    missing = reverse("screening:fhir_questionnaire", args=[version.pk + 1000])
    assert client.get(missing).status_code == 404


def test_the_export_runs_a_fixed_number_of_queries(answered, version, django_assert_num_queries):
    *_, response = answered
    version = QuestionnaireVersion.objects.select_related("questionnaire").get(pk=version.pk)
    response = Response.objects.select_related("screening", "version__questionnaire").get(
        pk=response.pk
    )

    with django_assert_num_queries(2):  # the items, their texts
        questionnaire_resource(version, "ar")
    with django_assert_num_queries(2):  # the answers with their items, the texts
        questionnaire_response_resource(response)
