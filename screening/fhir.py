"""FHIR R4 views of BarnSäkert: a questionnaire version in one language, and one guardian's
submitted answers.

The QuestionnaireResponse names the child by id only and names no guardian at all: it is one
parent's answers, and nothing in it may lead to the other parent (or to anyone's name,
address or identity number). Skipped questions appear without an answer.
"""

from __future__ import annotations

from typing import Any

from django.utils import translation

from .models import Answer, Domain, Item, ItemText, QuestionnaireVersion, Response

# Stable identifiers for Samverkan's own FHIR artefacts. They name things and are never
# fetched; the same in every installation, so that exports from two regions compare. The
# reserved `.example` domain stays until the project has a domain of its own to mint them under.
BASE = "https://samverkan.example/fhir"
QUESTIONNAIRE_IDENTIFIER_SYSTEM = f"{BASE}/NamingSystem/questionnaire-code"
ANSWER_SYSTEM = f"{BASE}/CodeSystem/screening-answer"
DOMAIN_SYSTEM = f"{BASE}/CodeSystem/screening-domain"
DOMAIN_EXTENSION = f"{BASE}/StructureDefinition/questionnaire-item-domain"
POSITIVE_EXTENSION = f"{BASE}/StructureDefinition/answer-option-positive"


class MissingTranslation(LookupError):
    """The version has no text in the asked language for some item."""


def canonical_url(version: QuestionnaireVersion) -> str:
    return f"{BASE}/Questionnaire/{version.questionnaire.code}"


def _domain_coding(code: str) -> dict[str, str]:
    with translation.override("en"):  # a code system's display is fixed, whatever the reader
        display = str(Domain(code).label)
    return {"system": DOMAIN_SYSTEM, "code": code, "display": display}


def _texts(version: QuestionnaireVersion, language: str) -> dict[int, ItemText]:
    """Each item's text in `language`, by item id."""
    return {
        text.item_id: text
        for text in ItemText.objects.filter(item__version=version, language=language)
    }


def _answer_option(item: Item, text: ItemText, option: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "valueCoding": {
            "system": ANSWER_SYSTEM,
            "code": option,
            "display": text.option_labels[option],
        }
    }
    if option in item.positive:
        entry["extension"] = [{"url": POSITIVE_EXTENSION, "valueBoolean": True}]
    return entry


def questionnaire_resource(version: QuestionnaireVersion, language: str) -> dict[str, Any]:
    """A FHIR R4 Questionnaire for `version` with its texts in `language`.

    Each item is a `choice` whose answer options are codings in the Samverkan answer code
    system; its domain travels in an extension, and options that count as positive carry a
    flag, so a receiving system can read the answers without this database.
    """
    items = list(Item.objects.filter(version=version).order_by("number"))
    texts = _texts(version, language)
    if not items or any(item.pk not in texts for item in items):
        raise MissingTranslation
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": str(version.pk),
        "language": language,
        "url": canonical_url(version),
        "identifier": [
            {"system": QUESTIONNAIRE_IDENTIFIER_SYSTEM, "value": version.questionnaire.code}
        ],
        "version": str(version.version),
        "title": version.questionnaire.name,
        "status": "active" if version.published_at else "draft",
        "experimental": version.is_example,
        "subjectType": ["Patient"],
        "publisher": "Samverkan",
        "item": [],
    }
    if version.label:
        resource["description"] = version.label
    if version.published_at:
        resource["date"] = version.published_at.isoformat()
    for item in items:
        text = texts[item.pk]
        resource["item"].append(
            {
                "linkId": str(item.number),
                "prefix": f"{item.number}.",
                "text": text.text,
                "type": "choice",
                "required": False,  # a guardian may always skip a question
                "extension": [
                    {"url": DOMAIN_EXTENSION, "valueCoding": _domain_coding(item.domain)}
                ],
                "answerOption": [_answer_option(item, text, option) for option in item.options],
            }
        )
    return resource


def questionnaire_response_resource(response: Response) -> dict[str, Any]:
    """A FHIR R4 QuestionnaireResponse for one guardian's submitted answers.

    The subject is the child, by id only; no author or source is given, so the resource never
    identifies a guardian. Texts and labels are in the language the guardian answered in.
    """
    version = response.version
    answers = list(
        Answer.objects.filter(response=response).select_related("item").order_by("item__number")
    )
    texts = _texts(version, response.language)
    items = []
    for answer in answers:
        item = answer.item
        text = texts.get(item.pk)
        entry: dict[str, Any] = {"linkId": str(item.number)}
        if text is not None:
            entry["text"] = text.text
        if answer.option:
            coding = {"system": ANSWER_SYSTEM, "code": answer.option}
            if text is not None and answer.option in text.option_labels:
                coding["display"] = text.option_labels[answer.option]
            entry["answer"] = [{"valueCoding": coding}]
        items.append(entry)
    return {
        "resourceType": "QuestionnaireResponse",
        "id": str(response.pk),
        "language": response.language,
        "questionnaire": f"{canonical_url(version)}|{version.version}",
        "status": "completed",
        "subject": {"reference": f"Patient/{response.screening.child_id}"},
        "authored": response.submitted_at.isoformat(),
        "item": items,
    }
