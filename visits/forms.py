"""Forms of the home-visit pages: offer, the family's answer, booking, documenting."""

from __future__ import annotations

import datetime
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consent.forms import RecordChoiceField
from consent.models import GuardianConsent
from directory.models import Professional
from families.models import Guardian

from .models import Programme, VisitBooking, VisitNote
from .services import ACCEPT_METHODS, Giving

LATEST = datetime.date(2999, 12, 31)


class ProgrammeChoiceField(RecordChoiceField):
    def label_from_instance(self, obj: Programme) -> str:
        return obj.name


class PersonChoiceField(RecordChoiceField):
    def label_from_instance(self, obj: Professional) -> str:
        return obj.get_full_name() or obj.get_username()


class OfferForm(forms.Form):
    programme = ProgrammeChoiceField(
        label=_("Programme"),
        queryset=Programme.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
    )

    def __init__(self, *args: Any, programmes: list[Programme], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(ProgrammeChoiceField, self.fields["programme"]).queryset = Programme.objects.filter(
            pk__in=[programme.pk for programme in programmes]
        ).order_by("name")
        if len(programmes) == 1:
            self.fields["programme"].initial = programmes[0].pk


class AcceptForm(forms.Form):
    """Each custodial guardian confirms: the family accepts the visits and consents to the
    programme's social services taking part. Three fields per guardian."""

    def __init__(self, *args: Any, guardians: list[Guardian], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.guardians = guardians
        methods = [(m.value, m.label) for m in GuardianConsent.Method if m in ACCEPT_METHODS]
        for guardian in guardians:
            key = guardian.pk
            self.fields[f"confirm_{key}"] = forms.BooleanField(
                label=_("%(name)s accepts the home visits and the consent")
                % {"name": guardian.full_name},
                required=True,
                error_messages={
                    "required": _("Every guardian with custody must confirm that they accept.")
                },
            )
            self.fields[f"method_{key}"] = forms.ChoiceField(
                label=_("How %(name)s confirmed it") % {"name": guardian.full_name},
                choices=methods,
                widget=forms.RadioSelect,
                initial=GuardianConsent.Method.TABLET,
            )
            self.fields[f"witness_{key}"] = forms.CharField(
                label=_("Witness for %(name)s") % {"name": guardian.full_name},
                required=False,
                max_length=200,
                help_text=_(
                    "For verbal consent: the name and role of the person who also heard it."
                ),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for guardian in self.guardians:
            key = guardian.pk
            if (
                data.get(f"method_{key}") == GuardianConsent.Method.VERBAL
                and not data.get(f"witness_{key}", "").strip()
            ):
                self.add_error(
                    f"witness_{key}", _("Verbal consent needs a witness: name who also heard it.")
                )
        return data

    def givings(self) -> list[Giving]:
        data = self.cleaned_data
        return [
            Giving(
                guardian=guardian,
                method=data[f"method_{guardian.pk}"],
                witness=data.get(f"witness_{guardian.pk}", ""),
            )
            for guardian in self.guardians
        ]

    def per_guardian(self) -> list[tuple[Guardian, list[forms.BoundField]]]:
        """The fields grouped per guardian, for the template's fieldsets."""
        return [
            (g, [self[f"confirm_{g.pk}"], self[f"method_{g.pk}"], self[f"witness_{g.pk}"]])
            for g in self.guardians
        ]


class DeclineForm(forms.Form):
    guardian = RecordChoiceField(
        label=_("Guardian who answered"),
        queryset=Guardian.objects.none(),
        widget=forms.RadioSelect,
        required=False,
        empty_label=_("Not recorded"),
    )
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only if the family wants to say why."),
    )

    def __init__(self, *args: Any, guardians: list[Guardian], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(RecordChoiceField, self.fields["guardian"]).queryset = Guardian.objects.filter(
            pk__in=[guardian.pk for guardian in guardians]
        ).order_by("last_name", "first_name", "pk")


class EndForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the programme ends"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "For example: the family has moved, wants no more visits, or every visit is made."
        ),
        error_messages={"required": _("Say why the programme ends.")},
    )


class CancelBookingForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the booking is cancelled"),
        max_length=300,
        help_text=_("The booking is kept in the history; the visit can be booked again."),
        error_messages={"required": _("Say why the booking is cancelled.")},
    )
    # The booking shown: if someone else moved or cancelled it meanwhile, nothing changes.
    expected = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)


class BookForm(forms.Form):
    date = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    time = forms.TimeField(
        label=_("Time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    nurse = PersonChoiceField(
        label=_("BVC nurse"), queryset=Professional.objects.none(), required=False
    )
    therapist = PersonChoiceField(
        label=_("Family therapist"), queryset=Professional.objects.none(), required=False
    )
    reason = forms.CharField(
        label=_("Why the visit is moved"),
        required=False,
        max_length=300,
        help_text=_("Needed when you move a booked visit; the old time is kept in the history."),
    )
    # The booking in force when the page was shown: a reschedule by someone else meanwhile
    # is refused instead of silently overwritten.
    expected = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(
        self,
        *args: Any,
        nurses: QuerySet[Professional],
        therapists: QuerySet[Professional],
        needs_nurse: bool,
        needs_therapist: bool,
        live: VisitBooking | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(PersonChoiceField, self.fields["nurse"]).queryset = nurses
        cast(PersonChoiceField, self.fields["therapist"]).queryset = therapists
        self.fields["nurse"].required = needs_nurse
        self.fields["therapist"].required = needs_therapist
        if not needs_nurse:
            del self.fields["nurse"]
        if not needs_therapist:
            del self.fields["therapist"]
        if live is None:
            del self.fields["reason"]
        else:
            self.fields["reason"].required = True
            self.fields["reason"].error_messages["required"] = _("Say why the visit is moved.")
        self.live = live
        if not self.is_bound:
            self.initial.setdefault("expected", live.pk if live else None)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, time = data.get("date"), data.get("time")
        if day and day > LATEST:
            self.add_error("date", _("Choose a date before the year 3000."))
        elif day and time:
            starts_at = timezone.make_aware(
                datetime.datetime.combine(day, time), timezone.get_current_timezone()
            )
            if starts_at <= timezone.now():
                self.add_error("date", _("Choose a time that has not passed yet."))
            data["starts_at"] = starts_at
        return data


class DocumentForm(forms.Form):
    topics = forms.MultipleChoiceField(
        label=_("Topics"),
        choices=[],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    text = forms.CharField(
        label=_("Note"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": _("Write what was done at the visit.")},
    )

    def __init__(self, *args: Any, topics: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.MultipleChoiceField, self.fields["topics"]).choices = [
            (topic, VisitNote.Topic(topic).label) for topic in topics
        ]

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError(_("Write what was done at the visit."))
        return text
