"""Forms of the meeting pages.

A meeting page carries one minutes form and one action form per agenda item. Their choices
(members, themes) are plain lists built once per page: a ModelChoiceField would query the
database again for every form it renders.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from cases.models import Concern, Theme
from directory.models import Professional, TeamMember

from .models import Meeting


class Members:
    """The team's people as form choices: the members (with the unit they represent) and the
    coordinator, each once."""

    def __init__(self, memberships: list[TeamMember], coordinator: Professional) -> None:
        self.by_pk: dict[int, Professional] = {}
        self.choices: list[tuple[int, str]] = []
        for membership in memberships:
            person = membership.professional
            if person.pk not in self.by_pk:
                self.by_pk[person.pk] = person
                self.choices.append((person.pk, f"{person} ({membership.unit})"))
        if coordinator.pk not in self.by_pk:
            self.by_pk[coordinator.pk] = coordinator
            self.choices.append((coordinator.pk, str(coordinator)))


class MinutesForm(forms.Form):
    # The version the user started from: a save over someone else's is refused (StaleEdit).
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    discussion = forms.CharField(
        label=_("Discussion"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    decisions = forms.CharField(
        label=_("Decisions"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    themes = forms.TypedMultipleChoiceField(
        label=_("Themes"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    contact_person = forms.TypedChoiceField(
        label=_("Contacts the family"),
        coerce=int,
        help_text=_("By default the member who noticed the child."),
    )

    def __init__(self, *args: Any, members: Members, themes: list[Theme], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = members
        self.themes_by_pk = {theme.pk: theme for theme in themes}
        cast(forms.ChoiceField, self.fields["themes"]).choices = [
            (theme.pk, str(theme)) for theme in themes
        ]
        cast(forms.ChoiceField, self.fields["contact_person"]).choices = members.choices
        # Set by the view when a save was refused because someone else saved meanwhile.
        self.conflict = False

    def clean_themes(self) -> list[Theme]:
        return [self.themes_by_pk[pk] for pk in self.cleaned_data["themes"]]

    def clean_contact_person(self) -> Professional:
        return self.members.by_pk[self.cleaned_data["contact_person"]]


class ActionForm(forms.Form):
    what = forms.CharField(label=_("What is to be done"), max_length=300)
    responsible = forms.TypedChoiceField(label=_("Responsible"), coerce=int)
    due_date = forms.DateField(
        label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args: Any, members: Members, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = members
        cast(forms.ChoiceField, self.fields["responsible"]).choices = [
            ("", "---------"),
            *members.choices,
        ]

    def clean_responsible(self) -> Professional:
        return self.members.by_pk[self.cleaned_data["responsible"]]


class AmendForm(forms.Form):
    """A correction of one part of closed minutes, with the reason for it."""

    new_value = forms.CharField(
        label=_("Corrected text"),
        required=False,
        max_length=20000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    reason = forms.CharField(
        label=_("Reason for the correction"),
        max_length=300,
        help_text=_("Kept with the correction, together with the text before it."),
    )


class AttendanceForm(forms.Form):
    present = forms.TypedMultipleChoiceField(
        label=_("Present"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, members: list[TeamMember], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["present"]).choices = [
            (m.professional.pk, f"{m.professional} ({m.unit})") for m in members
        ]


class RefusalForm(forms.Form):
    """No fields: carries the refusal of a button's act (closing, marking done) as an error."""


class ConcernChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Concern) -> str:
        # The nominator's own case, described without the child's identity: a name here
        # would be an access of its own.
        where = obj.get_sector_display() + (f" – {obj.setting}" if obj.setting else "")
        parts = [
            f"#{obj.pk}",
            f"{timezone.localtime(obj.created_at):%Y-%m-%d}",
            str(obj.get_age_band_display()),
            where,
            Truncator(obj.worry).chars(60),
        ]
        if obj.child_id:
            parts.append(str(_("identified")))
        return " · ".join(parts)


class NominateForm(forms.Form):
    concern = ConcernChoiceField(
        label=_("Case"),
        queryset=Concern.objects.none(),
        help_text=_("One of your own open cases."),
    )

    def __init__(self, *args: Any, user: Professional, meeting: Meeting, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["concern"]).queryset = (
            Concern.objects.filter(created_by=user, status=Concern.Status.OPEN)
            .filter(Q(team__isnull=True) | Q(team=meeting.team))
            .exclude(agenda_items__meeting=meeting)
            .order_by("-created_at", "-pk")
        )
