"""CSV/XLSX import and export of the resource directory (django-import-export).

One resource serves the admin's import/export pages and the `import_services` and
`export_services` commands, so a file that one accepts the other accepts too. Units and
municipalities travel by name, languages and screening domains as comma-separated codes; a
service is matched on (name, provider unit), so importing the same file twice updates rather
than duplicates.

A file with any bad row imports nothing: `ServiceResource.import_data` always rolls back on
validation errors, whoever calls it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf.locale import LANG_INFO
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets
from import_export.formats import base_formats
from import_export.results import Result

from screening import languages as questionnaire_languages
from screening.models import Domain

from .models import Organisation, Service, Unit

StrOrPromise = str | Promise

# The formats the regional administrator may use (both need no system libraries).
FORMATS = {"csv": base_formats.CSV, "xlsx": base_formats.XLSX}


@dataclass(frozen=True)
class SpokenLanguage:
    code: str
    name: str  # in the language itself
    direction: str = "ltr"


def _known_languages() -> dict[str, SpokenLanguage]:
    # The questionnaire's languages first (their names are the ones families already see on
    # the tablet), then every language Django knows a self-name for.
    known = {
        code: SpokenLanguage(code, info["name_local"], "rtl" if info.get("bidi") else "ltr")
        for code, info in LANG_INFO.items()
        if "name_local" in info
    }
    for each in questionnaire_languages.LANGUAGES:
        known[each.code] = SpokenLanguage(each.code, each.name, each.direction)
    return known


#: Language codes a service may list, each with its name in itself.
LANGUAGES: Mapping[str, SpokenLanguage] = _known_languages()


def spoken_language(code: str) -> SpokenLanguage:
    """The language named in itself; an unknown code (old data) is shown as the code."""
    return LANGUAGES.get(code) or SpokenLanguage(code, code)


class CodeListWidget(widgets.Widget):
    """A JSON list of codes, written as "sv, ar"; every code must be one of `allowed`."""

    def __init__(self, allowed: Iterable[str], unknown_message: StrOrPromise) -> None:
        super().__init__()
        self.allowed = frozenset(allowed)
        self.unknown_message = unknown_message  # with %(codes)s and optionally %(known)s

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> list[str]:
        codes: list[str] = []
        for part in str(value or "").replace(";", ",").split(","):
            code = part.strip().lower()
            if code and code not in codes:
                codes.append(code)
        unknown = [code for code in codes if code not in self.allowed]
        if unknown:
            # ValueError: the library reports it as an error of this field in this row.
            raise ValueError(
                str(self.unknown_message)
                % {"codes": ", ".join(unknown), "known": ", ".join(sorted(self.allowed))}
            )
        return codes

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return ", ".join(value or [])


class NamedWidget(widgets.ForeignKeyWidget):
    """A foreign key written as the related object's name, with a clear error when unknown."""

    def __init__(self, model: type, queryset: QuerySet, unknown_message: StrOrPromise) -> None:
        super().__init__(model, field="name")
        self.queryset = queryset
        self.unknown_message = unknown_message

    def get_queryset(self, value: Any, row: Any, *args: Any, **kwargs: Any) -> QuerySet:
        return self.queryset

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        name = str(value or "").strip()
        if not name:
            raise ValueError(_("This column must not be empty."))
        matches = list(self.get_queryset(name, row).filter(name=name)[:2])
        if len(matches) != 1:
            raise ValueError(str(self.unknown_message) % {"name": name})
        return matches[0]


class ProviderWidget(NamedWidget):
    """A unit by name. Unit names are unique only within an organisation, so a name shared
    by several units is narrowed down by the row's municipality."""

    def get_queryset(self, value: Any, row: Any, *args: Any, **kwargs: Any) -> QuerySet:
        units = self.queryset
        if units.filter(name=str(value).strip()).count() > 1 and row:
            units = units.filter(municipality__name=str(row.get("municipality") or "").strip())
        return units


class StrictBooleanWidget(widgets.BooleanWidget):
    """1/0, true/false or ja/nej; anything else is an error rather than a silent False."""

    TRUE_VALUES = [*widgets.BooleanWidget.TRUE_VALUES, "ja", "Ja", "JA", "yes", "Yes"]
    FALSE_VALUES = [*widgets.BooleanWidget.FALSE_VALUES, "nej", "Nej", "NEJ", "no", "No"]

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> bool | None:
        if isinstance(value, str):
            value = value.strip()
        if value in self.NULL_VALUES:
            return None  # the field's default applies
        if value in self.TRUE_VALUES:
            return True
        if value in self.FALSE_VALUES:
            return False
        raise ValueError(_("Write 1 or 0 (yes or no), not “%(value)s”.") % {"value": value})


class AgeWidget(widgets.IntegerWidget):
    """Whole years; text is an error of its column (the library's own widget raises a
    decimal error that names neither the column nor the value)."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> int | None:
        try:
            return super().clean(value, row, **kwargs)
        except (ArithmeticError, ValueError, TypeError) as error:
            raise ValueError(
                _("Write a whole number of years, not “%(value)s”.") % {"value": value}
            ) from error


class ServiceResource(resources.ModelResource):
    provider = fields.Field(
        attribute="provider",
        column_name="provider",
        widget=ProviderWidget(
            Unit,
            Unit.objects.all(),
            gettext_lazy(
                "No unit is called “%(name)s” (in this municipality). Add the unit first."
            ),
        ),
    )
    municipality = fields.Field(
        attribute="municipality",
        column_name="municipality",
        widget=NamedWidget(
            Organisation,
            Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY),
            gettext_lazy("No municipality is called “%(name)s”."),
        ),
    )
    # A TextField gets no text widget of its own: an empty spreadsheet cell would be None.
    description = fields.Field(
        attribute="description",
        column_name="description",
        widget=widgets.CharWidget(allow_blank=True),
    )
    min_age_years = fields.Field(
        attribute="min_age_years", column_name="min_age_years", widget=AgeWidget(), default=0
    )
    max_age_years = fields.Field(
        attribute="max_age_years", column_name="max_age_years", widget=AgeWidget(), default=18
    )
    languages = fields.Field(
        attribute="languages",
        column_name="languages",
        widget=CodeListWidget(
            LANGUAGES, gettext_lazy("Unknown language code(s): %(codes)s. Use ISO 639 codes.")
        ),
    )
    domains = fields.Field(
        attribute="domains",
        column_name="domains",
        widget=CodeListWidget(
            Domain.values, gettext_lazy("Unknown domain code(s): %(codes)s. Known: %(known)s.")
        ),
    )
    families_can_contact = fields.Field(
        attribute="families_can_contact",
        column_name="families_can_contact",
        widget=StrictBooleanWidget(),
        default=True,
    )
    active = fields.Field(
        attribute="active", column_name="active", widget=StrictBooleanWidget(), default=True
    )

    class Meta:
        model = Service
        fields = (
            "name",
            "kind",
            "provider",
            "municipality",
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
        )
        export_order = fields
        import_id_fields = ("name", "provider")
        # Model validation too: kind among the choices, e-mail, lengths, the municipality's kind.
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def get_queryset(self) -> QuerySet[Service]:
        return Service.objects.select_related("provider", "municipality").order_by("name", "pk")

    def get_instance(self, instance_loader: Any, row: Any) -> Service | None:
        try:
            return super().get_instance(instance_loader, row)
        except ValueError:
            # An unknown provider: treated as a new service, so that the provider column's
            # own validation reports it as an error of this row.
            return None

    def validate_instance(
        self,
        instance: Service,
        import_validation_errors: dict[str, Any] | None = None,
        validate_unique: bool = True,
    ) -> None:
        errors = dict(import_validation_errors or {})
        if (
            isinstance(instance.min_age_years, int)
            and isinstance(instance.max_age_years, int)
            and instance.min_age_years > instance.max_age_years
        ):
            errors.setdefault("max_age_years", []).append(
                ValidationError(_("The upper age is below the lower age."))
            )
        super().validate_instance(instance, errors, validate_unique)

    def import_data(self, dataset: Any, *args: Any, **kwargs: Any) -> Result:
        """Import all rows or none: any bad row rolls the whole file back."""
        kwargs["rollback_on_validation_errors"] = True
        kwargs["use_transactions"] = True
        return super().import_data(dataset, *args, **kwargs)


def import_problems(result: Result) -> list[str]:
    """Every problem of an import result as one line, naming the row and the column.

    For the management commands, which speak English like the project's other commands; the
    messages themselves come from the widgets and the model, in the active language."""
    problems = [str(error.error) for error in result.base_errors]
    for error_row in result.error_rows:
        problems += [f"Row {error_row.number}: {error.error}" for error in error_row.errors]
    for invalid in result.invalid_rows:
        for column, messages in invalid.field_specific_errors.items():
            problems += [f"Row {invalid.number}, column {column}: {text}" for text in messages]
        problems += [f"Row {invalid.number}: {text}" for text in invalid.non_field_specific_errors]
    return problems
