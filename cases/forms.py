"""Forms of the cases app. They parse and check the input; the services decide and write.

The anonymous concern form has no field that could hold an identity: no name, identity
number, birth date or address, only an age band and free text (which the service checks).
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from consent.models import Consent
from consent.policy import Purpose
from directory.models import Service, Team, Unit
from families.forms import ChildSearchForm
from families.models import Child

from .models import AgeBand, Theme

WORRY_MAX = 5000


class Radios(forms.RadioSelect):
    """Radio buttons whose group label points at the first button (for the error summary)."""

    def id_for_label(self, id_: str, index: str | None = None) -> str:
        return super().id_for_label(id_, "0" if index is None else index)


class Checkboxes(forms.CheckboxSelectMultiple):
    def id_for_label(self, id_: str, index: str | None = None) -> str:
        return super().id_for_label(id_, "0" if index is None else index)


class ConcernForm(forms.Form):
    """A concern: anonymous (with an age band) or, from the child's page, identified."""

    unit = forms.ModelChoiceField(
        label=_("Your unit"),
        queryset=Unit.objects.none(),
        empty_label=None,
        help_text=_("The sector where the concern was noticed is taken from the unit."),
    )
    setting = forms.CharField(
        label=_("Where it was noticed"),
        max_length=100,
        required=False,
        help_text=_("For example: at the 18-month visit, in the preschool group."),
    )
    age_band = forms.ChoiceField(
        label=_("The child's age"), choices=[("", _("Choose an age band")), *AgeBand.choices]
    )
    worry = forms.CharField(
        label=_("The concern"),
        max_length=WORRY_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Describe what you have noticed. Do not write names or identity numbers."),
    )
    themes = forms.ModelMultipleChoiceField(
        label=_("Themes"),
        queryset=Theme.objects.filter(active=True),
        widget=Checkboxes(),
        required=False,
    )
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=_("No team yet"),
        help_text=_("The team that is to discuss the concern, if you know it."),
    )
    text_checked = forms.BooleanField(
        label=_("I have checked that the text identifies nobody"), required=False
    )

    def __init__(
        self,
        *args: Any,
        units: list[Unit],
        teams: QuerySet[Team],
        anonymous: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["unit"]).queryset = Unit.objects.filter(
            pk__in=[unit.pk for unit in units]
        )
        cast(forms.ModelChoiceField, self.fields["team"]).queryset = teams
        if not anonymous:
            del self.fields["age_band"], self.fields["text_checked"]
            self.fields["worry"].help_text = _("Describe what you have noticed.")

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        arguments = {
            "unit": data["unit"],
            "setting": data["setting"],
            "worry": data["worry"],
            "themes": list(data["themes"]),
            "team": data["team"],
        }
        if "age_band" in self.fields:
            arguments.update(age_band=data["age_band"], text_checked=data["text_checked"])
        return arguments


class PickChildForm(ChildSearchForm):
    """The identify page's GET: a search (validated as on the start page), then the child
    chosen among the results."""

    barn = forms.IntegerField(required=False, min_value=1, max_value=10**18 - 1)


class IdentifyForm(forms.Form):
    """Link an anonymous case to a child the user may see, under a team-discussion consent."""

    child = forms.ModelChoiceField(
        label=_("Child"), queryset=Child.objects.none(), widget=forms.HiddenInput
    )
    consent = forms.ModelChoiceField(
        label=_("Consent to team discussion"),
        queryset=Consent.objects.none(),
        widget=Radios(),
        error_messages={"required": _("Choose the consent the guardians have given.")},
    )

    def __init__(self, *args: Any, children: QuerySet[Child], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["child"]).queryset = children
        cast(forms.ModelChoiceField, self.fields["consent"]).queryset = Consent.objects.filter(
            child__in=children, purpose=Purpose.TEAM_DISCUSSION
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        child, consent = data.get("child"), data.get("consent")
        if child is not None and consent is not None and consent.child_id != child.pk:
            self.add_error("consent", _("That consent is not for this child."))
        return data


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Service) -> str:
        return f"{obj.name} ({obj.provider.name})"


class ReferralConsentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Consent) -> str:
        return _("%(service)s – %(state)s, valid until %(until)s (consent %(id)s)") % {
            "service": obj.service or "–",
            "state": obj.state().label,
            "until": f"{obj.valid_until:%Y-%m-%d}",
            "id": obj.pk,
        }


class ReferralForm(forms.Form):
    service = ServiceChoiceField(
        label=_("Service"),
        queryset=Service.objects.filter(active=True).select_related("provider"),
        empty_label=_("Choose a service"),
    )
    consent = ReferralConsentChoiceField(
        label=_("Referral consent"),
        queryset=Consent.objects.none(),
        widget=Radios(),
        help_text=_("The guardians' consent to a referral naming this service."),
        error_messages={"required": _("Choose the guardians' referral consent.")},
    )
    note = forms.CharField(
        label=_("What the family needs"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, child: Child, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["consent"]).queryset = (
            Consent.objects.filter(child=child, purpose=Purpose.REFERRAL)
            .select_related("service")
            .order_by("-valid_until", "-pk")
        )


class ReferralStepForm(forms.Form):
    step = forms.ChoiceField(
        label=_("Step"),
        choices=[
            ("received", _("Received")),
            ("first_contact", _("First contact made")),
            ("completed", _("Completed")),
            ("declined", _("Declined")),
        ],
    )


class ReportOfConcernForm(forms.Form):
    to_unit = forms.ModelChoiceField(
        label=_("To the social services unit"),
        queryset=Unit.objects.filter(receives_reports_of_concern=True, active=True).order_by(
            "name"
        ),
        empty_label=_("Choose the receiving unit"),
    )
    what = forms.CharField(
        label=_("What have you seen or heard?"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Describe facts: what, when, who said what. No consent is needed."),
    )


class ConfirmForm(forms.Form):
    """A button that acts (mark done, acknowledge): errors from the service land here."""
