"""Admin for home-visit programmes: an administrator sets up a programme, its visits and its
areas without code. Enrolments, visits and notes are deliberately absent: they are identified
child data, read only through the audited views (docs/architecture.md, "Children are not in
the Django admin"). The programme list shows counts only, which identify nobody."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from directory.models import Profession

from .models import Programme, ProgrammeArea, ProgrammeVisit

# A window wider than this on either side of the target age is no longer "a visit at N months".
MAX_WINDOW_DAYS = 90
# Any birth date does to check that a window never opens before the child is born.
_SOME_BIRTH_DATE = datetime.date(2001, 1, 31)


class ProgrammeVisitForm(forms.ModelForm):
    professions = forms.MultipleChoiceField(
        label=_("professions taking part"),
        choices=Profession.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one profession that takes part.")},
    )

    class Meta:
        model = ProgrammeVisit
        fields = [
            "number",
            "name_sv",
            "name_en",
            "age_months",
            "age_weeks",
            "window_days_before",
            "window_days_after",
            "professions",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("window_days_before", "window_days_after"):
            if (data.get(name) or 0) > MAX_WINDOW_DAYS:
                self.add_error(
                    name,
                    _("At most %(days)s days: a wider window is no longer a visit at that age.")
                    % {"days": MAX_WINDOW_DAYS},
                )
        before = data.get("window_days_before")
        if before is not None and "age_months" in data and "age_weeks" in data:
            visit = ProgrammeVisit(age_months=data["age_months"], age_weeks=data["age_weeks"])
            target = visit.target_date(_SOME_BIRTH_DATE)
            if target - datetime.timedelta(days=before) < _SOME_BIRTH_DATE:
                self.add_error(
                    "window_days_before",
                    _("The window would open before the child is born: at most %(days)s days.")
                    % {"days": (target - _SOME_BIRTH_DATE).days},
                )
        return data


class ProgrammeVisitFormSet(forms.BaseInlineFormSet):
    """Two visits with one number are refused by the model's unique constraint (checked by
    the formset across its rows); this adds that a programme has at least one visit."""

    def clean(self) -> None:
        super().clean()
        if not _kept(self) and not any(form.errors for form in self.forms):
            raise ValidationError(_("A programme needs at least one visit."))


class ProgrammeAreaFormSet(forms.BaseInlineFormSet):
    """`ProgrammeArea.clean` compares a row with the areas already saved; this compares the
    rows of one save with each other, so two new overlapping rows are refused too."""

    def clean(self) -> None:
        super().clean()
        kept: list[forms.ModelForm] = []
        for form in _kept(self):
            # The model's clean has normalised the prefix on the instance (no spaces).
            prefix = form.instance.postal_code_prefix if not form.errors else ""
            if not prefix:
                continue
            for other in kept:
                theirs = other.instance.postal_code_prefix
                if prefix.startswith(theirs) or theirs.startswith(prefix):
                    form.add_error(
                        "postal_code_prefix",
                        _("It overlaps the area %(area)s.")
                        % {"area": f"{other.instance.name} ({theirs})"},
                    )
                    break
            else:
                kept.append(form)


def _kept(formset: forms.BaseInlineFormSet) -> list[forms.ModelForm]:
    """The forms that will be saved: filled in, valid so far, not marked for deletion."""
    # Django's own reading of a form's DELETE box: private, so not in django-stubs.
    should_delete = formset._should_delete_form  # type: ignore[attr-defined]
    return [
        form
        for form in formset.forms
        if form.has_changed() or form.instance.pk
        if not (formset.can_delete and should_delete(form))
        if hasattr(form, "cleaned_data")
    ]


class ProgrammeVisitInline(admin.TabularInline):
    model = ProgrammeVisit
    form = ProgrammeVisitForm
    formset = ProgrammeVisitFormSet
    extra = 0
    min_num = 1


class ProgrammeAreaInline(admin.TabularInline):
    model = ProgrammeArea
    formset = ProgrammeAreaFormSet
    extra = 0
    min_num = 1


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "municipality",
        "partner_unit",
        "children_born_from",
        "visit_count",
        "area_count",
        "active",
    ]
    list_filter = ["active", "region", "municipality"]
    list_select_related = ["municipality", "partner_unit"]
    search_fields = ["name"]
    fields = [
        "name",
        "description",
        "region",
        "municipality",
        "partner_unit",
        "children_born_from",
        "offer_until_weeks",
        "active",
        "enrolment_count",
    ]
    readonly_fields = ["enrolment_count"]
    inlines = [ProgrammeVisitInline, ProgrammeAreaInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Programme]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_visits=Count("visits", distinct=True),
                n_areas=Count("areas", distinct=True),
                n_enrolments=Count("enrolments", distinct=True),
            )
        )

    @admin.display(description=_("visits"), ordering="n_visits")
    def visit_count(self, obj: Programme) -> int:
        return obj.n_visits  # type: ignore[attr-defined]

    @admin.display(description=_("areas"), ordering="n_areas")
    def area_count(self, obj: Programme) -> int:
        return obj.n_areas  # type: ignore[attr-defined]

    @admin.display(description=_("families offered it"))
    def enrolment_count(self, obj: Programme) -> int:
        # A count only: the families themselves are seen through the audited views.
        return getattr(obj, "n_enrolments", 0) if obj.pk else 0
