"""Forms of the consent pages: what a consent covers, a guardian giving it, a withdrawal."""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any

from dateutil.relativedelta import relativedelta
from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from directory.models import Organisation, Sector, Service, Team, Unit
from families.models import Child, Guardian

from .models import GuardianConsent
from .policy import Purpose

# The purposes a guardian consents to (CARE and LOG_EXTRACT are reasons for reading, not consents).
CONSENT_PURPOSES = [
    (purpose.value, purpose.label)
    for purpose in (
        Purpose.TEAM_DISCUSSION,
        Purpose.INFORMATION_EXCHANGE,
        Purpose.REFERRAL,
        Purpose.SIP,
        Purpose.HOME_VISITS,
    )
]
# The printed form exists in these languages; each name is written in its own language.
FORM_LANGUAGES = [("sv", "Svenska"), ("en", "English")]
# Far enough for any consent, near enough that adding the default period cannot overflow.
LATEST = datetime.date(2999, 12, 31)

DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
# A signed form is a scan or a photo. The browser's content type alone can lie, so the first
# bytes must match it too; the stored name is random (nothing about the family in a path).
DOCUMENT_TYPES: dict[str, tuple[bytes, str]] = {
    "application/pdf": (b"%PDF-", "pdf"),
    "image/jpeg": (b"\xff\xd8\xff", "jpg"),
    "image/png": (b"\x89PNG\r\n\x1a\n", "png"),
}


class RecordIdChoices:
    """Model choices whose submitted ids must look like database ids (1-18 digits) before
    the database is asked: a longer number overflows the integer column and fails there
    with a server error instead of a form error (as `samverkan.converters.RecordId`)."""

    def _check_id(self, value: Any) -> None:
        if value in self.empty_values:  # type: ignore[attr-defined]
            return
        if not re.fullmatch(r"[0-9]{1,18}", str(value)):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"],  # type: ignore[attr-defined]
                code="invalid_choice",
                params={"value": value},
            )


class RecordChoiceField(RecordIdChoices, forms.ModelChoiceField):
    def to_python(self, value: Any) -> Any:
        self._check_id(value)
        return super().to_python(value)


class RecordMultipleChoiceField(RecordIdChoices, forms.ModelMultipleChoiceField):
    def _check_values(self, value: Any) -> Any:
        for each in value:
            self._check_id(each)
        return super()._check_values(value)  # type: ignore[misc]  # not in django-stubs


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ServiceChoiceField(RecordChoiceField):
    def label_from_instance(self, obj: Service) -> str:
        return f"{obj.name} ({obj.provider.name})"


class ConsentScopeForm(forms.Form):
    """What a consent covers: purpose, team or service, who may receive it, and for how long.

    Used as it stands (GET) for the printable form before recording.
    """

    purpose = forms.ChoiceField(label=_("Purpose"), choices=CONSENT_PURPOSES)
    team = RecordChoiceField(
        label=_("Team"),
        queryset=Team.objects.none(),
        required=False,
        help_text=_("For a team discussion: the team that may discuss the child."),
    )
    service = ServiceChoiceField(
        label=_("Service"),
        queryset=Service.objects.none(),
        required=False,
        help_text=_(
            "For a referral: the service the family is referred to. Its unit may always "
            "receive the information."
        ),
    )
    sectors = forms.MultipleChoiceField(
        label=_("Sectors that may receive the information"),
        choices=Sector.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Within the municipality of the unit that records the consent."),
    )
    units = RecordMultipleChoiceField(
        label=_("Named units that may receive the information"),
        queryset=Unit.objects.none(),
        required=False,
        help_text=_("Optional: single units, instead of or besides whole sectors."),
    )
    valid_from = forms.DateField(
        label=_("Valid from"),
        required=False,
        widget=_date_widget(),
        help_text=_("Today when left empty."),
    )
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=_date_widget())
    lang = forms.ChoiceField(label=_("Language of the form"), choices=FORM_LANGUAGES)

    def __init__(
        self, *args: Any, child: Child, area: Organisation | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if area is not None:  # the recording unit's municipality: where sector scopes reach
            self.fields["sectors"].help_text = _("Within %(municipality)s.") % {
                "municipality": area.name
            }
        # Teams, services and units of the municipalities the child's own units serve.
        municipalities = Unit.objects.filter(pk__in=child.unit_ids()).values("municipality")
        self.fields["team"].queryset = Team.objects.filter(  # type: ignore[attr-defined]
            municipality__in=municipalities
        ).order_by("name")
        self.fields["service"].queryset = (  # type: ignore[attr-defined]
            Service.objects.filter(active=True, municipality__in=municipalities)
            .select_related("provider")
            .order_by("name")
        )
        self.fields["units"].queryset = Unit.objects.filter(  # type: ignore[attr-defined]
            active=True, municipality__in=municipalities
        ).order_by("name")
        today = timezone.localdate()
        months = settings.CONSENT_DEFAULT_MONTHS
        self.fields["valid_from"].initial = today
        self.fields["valid_until"].initial = today + relativedelta(months=months)
        self.fields["valid_until"].help_text = _(
            "%(months)s months after the start when left empty."
        ) % {"months": months}
        language = (get_language() or "sv")[:2]
        self.fields["lang"].initial = language if language in dict(FORM_LANGUAGES) else "sv"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        purpose, team, service = data.get("purpose"), data.get("team"), data.get("service")
        if purpose == Purpose.TEAM_DISCUSSION and team is None and "team" not in self.errors:
            self.add_error("team", _("Name the team that may discuss the child."))
        if purpose and purpose != Purpose.TEAM_DISCUSSION and team is not None:
            self.add_error("team", _("A team is named only for a team discussion."))
        if purpose == Purpose.REFERRAL and service is None and "service" not in self.errors:
            self.add_error("service", _("Name the service the family is referred to."))
        if purpose and purpose != Purpose.REFERRAL and service is not None:
            self.add_error("service", _("A service is named only for a referral."))
        if (
            not data.get("sectors")
            and not data.get("units")
            and service is None
            and not {"sectors", "units", "service"} & set(self.errors)
        ):
            self.add_error(
                "sectors", _("Name at least one sector or unit that may receive the information.")
            )
        self._clean_period(data)
        return data

    def _clean_period(self, data: dict[str, Any]) -> None:
        if "valid_from" in self.errors or "valid_until" in self.errors:
            return
        today = timezone.localdate()
        start = data.get("valid_from") or today
        if start < today:
            self.add_error("valid_from", _("A consent cannot start before today."))
            return
        if start > LATEST:
            self.add_error("valid_from", _("Choose a date before the year 3000."))
            return
        end = data.get("valid_until") or start + relativedelta(
            months=settings.CONSENT_DEFAULT_MONTHS
        )
        if end < start:
            self.add_error("valid_until", _("The consent must end after it starts."))
        elif end > LATEST:
            self.add_error("valid_until", _("Choose a date before the year 3000."))
        else:
            data["valid_from"], data["valid_until"] = start, end


class ConsentRecordForm(ConsentScopeForm):
    child_view = forms.CharField(
        label=_("The child's own view"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "What the child thinks, in the child's words where possible. It weighs more the "
            "older the child is."
        ),
    )

    includes_screening_answers = forms.BooleanField(
        label=_("The guardian also agrees to share their own BarnSäkert answers"),
        required=False,
        help_text=_(
            "Only if the guardian explicitly wants it. Otherwise only the nurse's summary and "
            "the support offered are shared, never the answers."
        ),
    )

    field_order = [
        "purpose",
        "team",
        "service",
        "sectors",
        "units",
        "valid_from",
        "valid_until",
        "child_view",
        "includes_screening_answers",
        "lang",
    ]


class GiveForm(forms.Form):
    """One guardian gives the consent, and how."""

    guardian = RecordChoiceField(
        label=_("Guardian"),
        queryset=Guardian.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
    )
    method = forms.ChoiceField(
        label=_("How it was given"),
        choices=GuardianConsent.Method.choices,
        widget=forms.RadioSelect,
    )
    witness = forms.CharField(
        label=_("Witness"),
        required=False,
        max_length=200,
        help_text=_("For verbal consent: the name and role of the person who also heard it."),
    )
    document = forms.FileField(
        label=_("Signed form"),
        required=False,
        help_text=_("For a signed form: a PDF, JPEG or PNG file of at most 10 MB."),
    )

    def __init__(self, *args: Any, guardians: list[Guardian], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["guardian"].queryset = Guardian.objects.filter(  # type: ignore[attr-defined]
            pk__in=[guardian.pk for guardian in guardians]
        ).order_by("last_name", "first_name", "pk")
        if len(guardians) == 1:
            self.fields["guardian"].initial = guardians[0].pk

    def clean_document(self) -> UploadedFile | None:
        document: UploadedFile | None = self.cleaned_data.get("document")
        if not document:
            return None
        if document.size is not None and document.size > DOCUMENT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is too large: at most 10 MB."), code="too_large"
            )
        expected = DOCUMENT_TYPES.get(document.content_type or "")
        document.seek(0)
        head = document.read(16)
        document.seek(0)
        if expected is None or not head.startswith(expected[0]):
            raise forms.ValidationError(
                _("Upload the signed form as a PDF, JPEG or PNG file."), code="file_type"
            )
        document.name = f"{uuid.uuid4().hex}.{expected[1]}"
        return document

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        method = data.get("method")
        if method == GuardianConsent.Method.VERBAL and not data.get("witness", "").strip():
            self.add_error("witness", _("Verbal consent needs a witness: name who also heard it."))
        if (
            method == GuardianConsent.Method.SIGNED_FORM
            and not data.get("document")
            and "document" not in self.errors
        ):
            self.add_error("document", _("Upload the signed form."))
        if method and method != GuardianConsent.Method.SIGNED_FORM and data.get("document"):
            self.add_error(
                "document",
                _("A file belongs to a signed form: choose that way or remove the file."),
            )
        return data


class WithdrawForm(forms.Form):
    guardian = RecordChoiceField(
        label=_("Guardian who withdraws the consent"),
        queryset=Guardian.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
    )
    confirm = forms.BooleanField(
        label=_("The guardian has told us that they withdraw the consent."),
        help_text=_("It stops at once for everyone it covers."),
        error_messages={"required": _("Confirm that the guardian withdraws the consent.")},
    )

    def __init__(self, *args: Any, guardians: list[Guardian], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["guardian"].queryset = Guardian.objects.filter(  # type: ignore[attr-defined]
            pk__in=[guardian.pk for guardian in guardians]
        ).order_by("last_name", "first_name", "pk")
        if len(guardians) == 1:
            self.fields["guardian"].initial = guardians[0].pk


class FormLanguageForm(forms.Form):
    lang = forms.ChoiceField(label=_("Language of the form"), choices=FORM_LANGUAGES)
