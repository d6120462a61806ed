"""Forms of the SIP pages.

The plan editor is one form for the plan's own fields and formsets for goals, interventions,
actions and (at a follow-up) the evaluation of each earlier action. Their choices (participants,
organisations) are plain lists built once per page: a ModelChoiceField would query the database
again for every row it renders. Rows whose text is empty are ignored.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from directory.models import Membership, Organisation, Professional
from families.models import Custody

from .models import PlanAction, PlanIntervention, PlanMeeting, PlanParticipant, PlanVersion
from .services import ActionRow, Evaluation, InterventionRow, PlanContent


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _text(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


# --- Start ----------------------------------------------------------------------------------


class StartForm(forms.Form):
    requested_by = forms.CharField(
        label=_("Who asked for the plan"),
        max_length=200,
        help_text=_("E.g. the guardians, the child, the school, the HLT team."),
    )
    requested_on = forms.DateField(label=_("Asked for on"), widget=_date_widget())

    def clean_requested_on(self) -> datetime.date:
        day = self.cleaned_data["requested_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("The date of the request cannot be in the future."))
        return day


# --- Participants ---------------------------------------------------------------------------


class _Invited(forms.Form):
    role = forms.CharField(label=_("Role"), max_length=200, required=False)
    contact = forms.CharField(label=_("Contact details"), max_length=200, required=False)
    invited = forms.BooleanField(label=_("Invited now"), required=False)


class ProfessionalParticipantForm(_Invited):
    kind = PlanParticipant.Kind.PROFESSIONAL
    membership = forms.TypedChoiceField(
        label=_("Professional and unit"),
        coerce=int,
        help_text=_(
            "Only units the guardians' SIP consent covers (or the child's own) may take part."
        ),
    )

    def __init__(self, *args: Any, memberships: list[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.by_pk = {m.pk: m for m in memberships}
        cast(forms.ChoiceField, self.fields["membership"]).choices = [("", "---------")] + [
            (m.pk, f"{m.professional} – {m.unit}") for m in memberships
        ]
        self.order_fields(["membership", "role", "contact", "invited"])

    def clean_membership(self) -> Membership:
        return self.by_pk[self.cleaned_data["membership"]]


class GuardianParticipantForm(_Invited):
    kind = PlanParticipant.Kind.GUARDIAN
    guardian = forms.TypedChoiceField(label=_("Guardian"), coerce=int)

    def __init__(self, *args: Any, custodies: list[Custody], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.by_pk = {c.guardian.pk: c.guardian for c in custodies}
        cast(forms.ChoiceField, self.fields["guardian"]).choices = [("", "---------")] + [
            (c.guardian.pk, f"{c.guardian.full_name} ({c.get_relation_display()})")
            for c in custodies
        ]
        self.order_fields(["guardian", "role", "contact", "invited"])

    def clean_guardian(self) -> object:
        return self.by_pk[self.cleaned_data["guardian"]]


class ChildParticipantForm(_Invited):
    kind = PlanParticipant.Kind.CHILD

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["contact"]
        self.fields["role"].help_text = _("E.g. takes part in part of the meeting.")


class OtherParticipantForm(_Invited):
    kind = PlanParticipant.Kind.OTHER
    name = forms.CharField(label=_("Name"), max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].required = True
        self.fields["role"].help_text = _(
            "Who the person is to the family, e.g. a neighbour, an investigator from child "
            "and adolescent psychiatry."
        )
        self.order_fields(["name", "role", "contact", "invited"])


PARTICIPANT_FORMS: dict[str, type[_Invited]] = {
    form.kind: form
    for form in (
        ProfessionalParticipantForm,
        GuardianParticipantForm,
        ChildParticipantForm,
        OtherParticipantForm,
    )
}


# --- Meetings -------------------------------------------------------------------------------


class MeetingForm(forms.Form):
    kind = forms.ChoiceField(label=_("Meeting"), choices=PlanMeeting.Kind.choices)
    day = forms.DateField(label=_("Date"), widget=_date_widget())
    time = forms.TimeField(
        label=_("Time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    place = forms.CharField(label=_("Place"), max_length=200, required=False)

    def starts_at(self) -> datetime.datetime:
        return datetime.datetime.combine(
            self.cleaned_data["day"], self.cleaned_data["time"], timezone.get_current_timezone()
        )


class AttendanceForm(forms.Form):
    present = forms.TypedMultipleChoiceField(
        label=_("Present"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, participants: list[PlanParticipant], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["present"]).choices = [
            (p.pk, f"{p} ({p.role})" if p.role else str(p)) for p in participants
        ]


# --- The plan's content ---------------------------------------------------------------------


@dataclass
class Choices:
    """The page's choices, built once: professionals taking part and the responsible bodies."""

    participants: list[PlanParticipant]
    organisations: list[Organisation]
    participant_by_pk: dict[int, PlanParticipant] = field(init=False)
    organisation_by_pk: dict[int, Organisation] = field(init=False)

    def __post_init__(self) -> None:
        self.participant_by_pk = {p.pk: p for p in self.participants}
        self.organisation_by_pk = {o.pk: o for o in self.organisations}

    def people(self) -> list[tuple[object, str]]:
        return [("", "---------")] + [
            (p.pk, f"{p.professional} ({p.unit})") for p in self.participants
        ]

    def coordinators(self) -> list[tuple[object, str]]:
        return [("", "---------")] + [
            (p.professional_id, f"{p.professional} ({p.unit})") for p in self.participants
        ]

    def bodies(self) -> list[tuple[object, str]]:
        return [("", "---------")] + [(o.pk, str(o)) for o in self.organisations]


class PlanForm(forms.Form):
    # The version the user started from: a save over a newer one is refused (PlanConflict).
    based_on = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    needs = forms.CharField(
        label=_("Needs and background"),
        max_length=20000,
        widget=_text(5),
        help_text=_("What the child and family need, and why."),
    )
    child_voice = forms.CharField(
        label=_("The child's voice"),
        max_length=20000,
        required=False,
        widget=_text(4),
        help_text=_("In the child's own words where possible."),
    )
    child_voice_method = forms.ChoiceField(
        label=_("How the child's voice was gathered"), choices=PlanVersion.VoiceMethod.choices
    )
    child_voice_by = forms.CharField(
        label=_("Gathered by"),
        max_length=200,
        required=False,
        help_text=_("Who talked with the child."),
    )
    family_view = forms.CharField(
        label=_("The family's own view"), max_length=20000, required=False, widget=_text(4)
    )
    overall_responsibility = forms.TypedChoiceField(
        label=_("Overall responsibility"),
        coerce=int,
        help_text=_(
            "The responsible body (region or municipality) that holds overall responsibility."
        ),
    )
    coordinator = forms.TypedChoiceField(
        label=_("Coordinator"), coerce=int, help_text=_("A named professional taking part.")
    )
    next_follow_up = forms.DateField(label=_("Next follow-up"), widget=_date_widget())

    def __init__(self, *args: Any, choices: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = choices
        cast(forms.ChoiceField, self.fields["overall_responsibility"]).choices = choices.bodies()
        cast(forms.ChoiceField, self.fields["coordinator"]).choices = choices.coordinators()
        # Set by the view when a save was refused because someone else saved first.
        self.conflict: int | None = None

    def clean_overall_responsibility(self) -> Organisation:
        return self.choices.organisation_by_pk[self.cleaned_data["overall_responsibility"]]

    def clean_coordinator(self) -> Professional:
        for participant in self.choices.participants:
            if participant.professional_id == self.cleaned_data["coordinator"]:
                return participant.professional  # type: ignore[return-value]
        raise forms.ValidationError(_("Choose a professional taking part."))

    def clean_next_follow_up(self) -> datetime.date:
        day = self.cleaned_data["next_follow_up"]
        if day <= timezone.localdate():
            raise forms.ValidationError(_("The next follow-up must be a date after today."))
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("child_voice") or "").strip() and (
            data.get("child_voice_method") == PlanVersion.VoiceMethod.NOT_YET
        ):
            self.add_error("child_voice_method", _("Say how the child's voice was gathered."))
        return data


class GoalForm(forms.Form):
    text = forms.CharField(label=_("Goal"), max_length=2000, required=False, widget=_text(2))


class InterventionForm(forms.Form):
    what = forms.CharField(
        label=_("Intervention"), max_length=2000, required=False, widget=_text(2)
    )
    provider_kind = forms.ChoiceField(
        label=_("Provided by"),
        choices=[("", "---------"), *PlanIntervention.ProviderKind.choices],
        required=False,
    )
    provider = forms.TypedChoiceField(
        label=_("Responsible body"), coerce=int, required=False, empty_value=None
    )
    provider_other = forms.CharField(
        label=_("Provided by (other)"),
        max_length=200,
        required=False,
        help_text=_("When others do it: the family, the network, an association, ..."),
    )

    def __init__(self, *args: Any, choices: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = choices
        cast(forms.ChoiceField, self.fields["provider"]).choices = choices.bodies()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("what") or "").strip():
            return data
        kind = data.get("provider_kind")
        if not kind:
            self.add_error("provider_kind", _("Say who provides the intervention."))
        elif kind == PlanIntervention.ProviderKind.OTHER:
            if not (data.get("provider_other") or "").strip():
                self.add_error("provider_other", _("Say who provides the intervention."))
        elif data.get("provider") is None:
            self.add_error("provider", _("Choose the responsible body."))
        return data

    def row(self) -> InterventionRow | None:
        data = self.cleaned_data
        if not (data.get("what") or "").strip():
            return None
        provider = data.get("provider")
        return InterventionRow(
            what=data["what"],
            provider_kind=data["provider_kind"],
            provider=self.choices.organisation_by_pk.get(provider) if provider else None,
            provider_other=data.get("provider_other", ""),
        )


class ActionForm(forms.Form):
    what = forms.CharField(label=_("What"), max_length=2000, required=False, widget=_text(2))
    participant = forms.TypedChoiceField(
        label=_("Who (professional)"), coerce=int, required=False, empty_value=None
    )
    responsible_other = forms.CharField(
        label=_("Or who (not a professional)"),
        max_length=200,
        required=False,
        help_text=_("A guardian, the child or someone in the family's network."),
    )
    due_date = forms.DateField(label=_("By when"), required=False, widget=_date_widget())
    status = forms.ChoiceField(
        label=_("Status"), choices=PlanAction.Status.choices, initial=PlanAction.Status.PLANNED
    )
    source = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, choices: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = choices
        cast(forms.ChoiceField, self.fields["participant"]).choices = choices.people()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("what") or "").strip():
            return data
        if data.get("participant") is None and not (data.get("responsible_other") or "").strip():
            self.add_error("participant", _("Say who does it."))
        if data.get("participant") is not None and data["participant"] not in (
            self.choices.participant_by_pk
        ):
            self.add_error("participant", _("Choose a professional taking part."))
        if data.get("due_date") is None and "due_date" not in self.errors:
            self.add_error("due_date", _("Say by when."))
        return data

    def row(self, sources: dict[int, PlanAction]) -> ActionRow | None:
        data = self.cleaned_data
        if not (data.get("what") or "").strip():
            return None
        participant = data.get("participant")
        return ActionRow(
            what=data["what"],
            due_date=data["due_date"],
            participant=self.choices.participant_by_pk.get(participant) if participant else None,
            responsible_other=data.get("responsible_other", "") if participant is None else "",
            status=data["status"],
            source=sources.get(data.get("source") or 0),
        )


class EvaluationForm(forms.Form):
    """At a follow-up: one earlier action, its status now and how it went."""

    action = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(label=_("Status"), choices=PlanAction.Status.choices)
    evaluation = forms.CharField(
        label=_("How it went"), max_length=5000, required=False, widget=_text(2)
    )
    continue_until = forms.DateField(
        label=_("Carry over until"),
        required=False,
        widget=_date_widget(),
        help_text=_("Only for an action that goes on: its new date."),
    )

    def evaluation_of(self, actions: dict[int, PlanAction]) -> Evaluation | None:
        data = self.cleaned_data
        action = actions.get(data.get("action") or 0)
        if action is None:
            return None
        return Evaluation(
            action=action,
            status=data["status"],
            evaluation=data.get("evaluation", ""),
            continue_until=data.get("continue_until"),
        )


class FollowUpForm(forms.Form):
    meeting = forms.TypedChoiceField(label=_("Follow-up meeting"), coerce=int)
    evaluation = forms.CharField(
        label=_("Evaluation"),
        max_length=20000,
        widget=_text(4),
        help_text=_("How the plan has gone so far, in the words of everyone at the meeting."),
    )

    def __init__(self, *args: Any, meetings: list[PlanMeeting], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.by_pk = {m.pk: m for m in meetings}
        cast(forms.ChoiceField, self.fields["meeting"]).choices = [("", "---------")] + [
            (m.pk, f"{timezone.localtime(m.starts_at):%Y-%m-%d %H:%M} {m.place}".strip())
            for m in meetings
        ]

    def clean_meeting(self) -> PlanMeeting:
        return self.by_pk[self.cleaned_data["meeting"]]


GoalFormSet = forms.formset_factory(GoalForm, extra=2, max_num=30, validate_max=True)
InterventionFormSet = forms.formset_factory(
    InterventionForm, extra=2, max_num=30, validate_max=True
)
ActionFormSet = forms.formset_factory(ActionForm, extra=3, max_num=40, validate_max=True)
EvaluationFormSet = forms.formset_factory(EvaluationForm, extra=0, max_num=40, validate_max=True)


def content_of(
    form: PlanForm,
    goals: Any,
    interventions: Any,
    actions: Any,
    sources: dict[int, PlanAction],
) -> PlanContent:
    """The service's input from valid forms."""
    data = form.cleaned_data
    return PlanContent(
        needs=data["needs"],
        overall_responsibility=data["overall_responsibility"],
        coordinator=data["coordinator"],
        next_follow_up=data["next_follow_up"],
        family_view=data.get("family_view", ""),
        child_voice=data.get("child_voice", ""),
        child_voice_method=data["child_voice_method"],
        child_voice_by=data.get("child_voice_by", ""),
        goals=[g.cleaned_data.get("text", "") for g in goals],
        interventions=[r for r in (f.row() for f in interventions) if r is not None],
        actions=[r for r in (f.row(sources) for f in actions) if r is not None],
    )
