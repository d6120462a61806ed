"""The public resource directory: what a family can turn to, opened on their own phone.

No login: the page shows services only, never a person (no staff, no child, no guardian), and
reads nothing but active services of active units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from screening import languages as questionnaire_languages
from screening.models import Domain

from .models import Organisation, Service
from .resources import SpokenLanguage, spoken_language

PAGE_SIZE = 20
SWEDISH = "sv"

# The screening domains in the words a parent would use for what they need help with.
HELP_WITH: dict[str, Promise] = {
    Domain.CHILD_SAFETY: _("Keeping my child safe"),
    Domain.ECONOMIC_WORRY: _("Money, bills and debts"),
    Domain.LOW_MOOD: _("Feeling low or down"),
    Domain.PARENTAL_STRESS: _("Stress and strain as a parent"),
    Domain.SUBSTANCE_USE: _("Alcohol or drugs"),
    Domain.VIOLENCE: _("Violence or threats at home, now or before"),
}


class LanguageSelect(forms.Select):
    """Each language is named in itself, so each option says which language it is in."""

    def create_option(
        self,
        name: str,
        value: Any,
        label: int | str,
        selected: bool,
        index: int,
        subindex: int | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if value:
            option["attrs"]["lang"] = value
            option["attrs"]["dir"] = spoken_language(str(value)).direction
        return option


class ServiceFilterForm(forms.Form):
    # The field names are the query parameters, in Swedish like the rest of the URLs.
    kommun = forms.TypedChoiceField(
        label=_("Municipality"), required=False, coerce=int, empty_value=None
    )
    behov = forms.ChoiceField(label=_("What do you need help with?"), required=False)
    sprak = forms.ChoiceField(label=_("Language spoken"), required=False, widget=LanguageSelect)
    sjalv = forms.BooleanField(label=_("Only services I can contact myself"), required=False)

    def __init__(
        self,
        data: object,
        *,
        municipalities: list[tuple[int, str]],
        languages: list[SpokenLanguage],
    ) -> None:
        super().__init__(data)  # type: ignore[arg-type]
        self._choices("kommun").choices = [("", _("All municipalities")), *municipalities]
        self._choices("behov").choices = [("", _("Anything")), *HELP_WITH.items()]
        self._choices("sprak").choices = [
            ("", _("Any language")),
            *((language.code, language.name) for language in languages),
        ]

    def _choices(self, name: str) -> forms.ChoiceField:
        return cast(forms.ChoiceField, self.fields[name])


@dataclass(frozen=True)
class PublicService:
    """What the public page may show of a service, and nothing more."""

    name: str
    provider: str
    municipality: str
    description: str
    target_group: str
    min_age_years: int
    max_age_years: int
    phone: str
    phone_href: str
    email: str
    street_address: str
    postal_code: str
    city: str
    opening_hours: str
    languages: list[SpokenLanguage]
    helps_with: list[Promise]
    families_can_contact: bool

    @classmethod
    def of(cls, service: Service) -> PublicService:
        return cls(
            name=service.name,
            provider=service.provider.name,
            municipality=service.municipality.name,
            description=service.description,
            target_group=service.target_group,
            min_age_years=service.min_age_years,
            max_age_years=service.max_age_years,
            phone=service.phone,
            phone_href=_tel(service.phone),
            email=service.email,
            street_address=service.street_address,
            postal_code=service.postal_code,
            city=service.city,
            opening_hours=service.opening_hours,
            languages=[spoken_language(code) for code in service.languages],
            helps_with=[HELP_WITH[code] for code in service.domains if code in HELP_WITH],
            families_can_contact=service.families_can_contact,
        )


def _tel(phone: str) -> str:
    """A tel: target for a number as written ("0999-200 00" → "0999-20000")."""
    return re.sub(r"[^\d+\-]", "", phone)


def services_for_public_directory() -> QuerySet[Service]:
    """Active services of active units, with what the public page shows joined in."""
    return (
        Service.objects.filter(active=True, provider__active=True)
        .select_related("provider", "municipality")
        .order_by("name", "pk")
    )


def _has_code(field: str, code: str) -> Q:
    """Services whose JSON list `field` holds `code`."""
    if connection.features.supports_json_field_contains:
        return Q(**{f"{field}__contains": [code]})
    # SQLite has no JSON containment: match the quoted code in the stored JSON text. The code
    # is one of the form's choices, so it cannot carry quotes or wildcards of its own.
    return Q(**{f"{field}__icontains": f'"{code}"'})


def _filter_choices() -> tuple[list[tuple[int, str]], list[SpokenLanguage]]:
    """Municipalities and languages that at least one listed service has: two queries."""
    listed = services_for_public_directory()
    municipalities = list(
        Organisation.objects.filter(
            kind=Organisation.Kind.MUNICIPALITY, pk__in=listed.values("municipality_id")
        )
        .order_by("name")
        .values_list("pk", "name")
    )
    codes = {
        code
        for spoken in listed.order_by().values_list("languages", flat=True)
        for code in spoken or [SWEDISH]
    }
    # The questionnaire's languages first, in its order, then the rest by name.
    order = {language.code: n for n, language in enumerate(questionnaire_languages.LANGUAGES)}
    languages = sorted(
        (spoken_language(code) for code in codes),
        key=lambda language: (order.get(language.code, len(order)), language.name.casefold()),
    )
    return municipalities, languages


@login_not_required
@require_GET
def public_services(request: HttpRequest) -> HttpResponse:
    """The resource directory for families: filter by municipality, need, language and
    whether they can get in touch themselves. A bad filter value is reported and ignored."""
    municipalities, languages = _filter_choices()
    form = ServiceFilterForm(
        request.GET or None, municipalities=municipalities, languages=languages
    )
    services = services_for_public_directory()
    if form.is_bound:
        form.is_valid()  # the valid filters apply; the invalid ones are shown as errors
        chosen = form.cleaned_data
        if chosen.get("kommun"):
            services = services.filter(municipality_id=chosen["kommun"])
        if chosen.get("behov"):
            services = services.filter(_has_code("domains", chosen["behov"]))
        if chosen.get("sprak"):
            spoken = _has_code("languages", chosen["sprak"])
            if chosen["sprak"] == SWEDISH:
                # As in the staff's suggestions: a service that lists no language works in
                # Swedish.
                spoken |= Q(languages=[])
            services = services.filter(spoken)
        if chosen.get("sjalv"):
            services = services.filter(families_can_contact=True)
    page = Paginator(services, PAGE_SIZE).get_page(request.GET.get("sida"))
    return render(
        request,
        "directory/public_services.html",
        {
            "form": form,
            "page": page,
            "services": [PublicService.of(service) for service in page.object_list],
        },
    )
