"""Staff JSON endpoints serving BarnSäkert as FHIR R4 resources (application/fhir+json)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from .fhir import MissingTranslation, questionnaire_resource, questionnaire_response_resource
from .languages import BY_CODE
from .models import QuestionnaireVersion
from .queries import response_for_request

FHIR_JSON = "application/fhir+json; charset=utf-8"


def _fhir(resource: dict[str, Any]) -> JsonResponse:
    return JsonResponse(resource, content_type=FHIR_JSON, json_dumps_params={"ensure_ascii": False})


@require_GET
def fhir_questionnaire(request: HttpRequest, pk: int) -> JsonResponse:
    """A questionnaire version in one language (`?lang=`, Swedish by default). The questions
    are no secret: any logged-in professional may read them."""
    version = get_object_or_404(QuestionnaireVersion.objects.select_related("questionnaire"), pk=pk)
    language = request.GET.get("lang", "sv")
    if language not in BY_CODE:
        raise Http404
    try:
        return _fhir(questionnaire_resource(version, language))
    except MissingTranslation as exc:
        raise Http404 from exc


@require_GET
def fhir_response(request: HttpRequest, pk: int) -> JsonResponse:
    """One guardian's answers, for the child's own BVC only (404 for anyone else; audited)."""
    return _fhir(questionnaire_response_resource(response_for_request(request, pk)))
