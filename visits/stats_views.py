"""The coverage statistics of home-visit programmes: counts only, small cells suppressed."""

from __future__ import annotations

import datetime
from typing import Any, cast

from dateutil.relativedelta import relativedelta
from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from consent import policy

from .models import Programme
from .statistics import coverage

DEFAULT_MONTHS = 24
LONGEST_PERIOD_YEARS = 10


class CohortForm(forms.Form):
    """Which programme, and the children born in which period."""

    program = forms.TypedChoiceField(label=_("Programme"), coerce=int)
    fodda_fran = forms.DateField(
        label=_("Children born from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    fodda_till = forms.DateField(
        label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self, *args: Any, programmes: list[Programme], today: datetime.date, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        cast(forms.TypedChoiceField, self.fields["program"]).choices = [
            (p.pk, p.name) for p in programmes
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        until = data.get("fodda_till") or self.today
        since = data.get("fodda_fran") or until - relativedelta(months=DEFAULT_MONTHS)
        if since > until:
            raise forms.ValidationError(_("The period must end after it starts."))
        if until - since > datetime.timedelta(days=366 * LONGEST_PERIOD_YEARS):
            raise forms.ValidationError(
                _("Choose a period of at most %(years)s years."),
                params={"years": LONGEST_PERIOD_YEARS},
            )
        data["fodda_fran"], data["fodda_till"] = since, until
        return data


@require_GET
def stats(request: HttpRequest) -> HttpResponse:
    """Coverage of one programme the policy lets the user see, for a birth cohort (default:
    born in the last 24 months). A user who may see no programme gets a 404."""
    programmes = list(
        policy.statistics_programmes(request.user)
        .select_related("municipality", "partner_unit")
        .order_by("-active", "name")
    )
    if not programmes:
        raise Http404
    today = timezone.localdate()
    defaults = {
        "program": str(programmes[0].pk),
        "fodda_fran": (today - relativedelta(months=DEFAULT_MONTHS)).isoformat(),
        "fodda_till": today.isoformat(),
    }
    asked = {key: value for key, value in request.GET.items() if key in defaults and value}
    form = CohortForm(defaults | asked, programmes=programmes, today=today)
    figures = None
    programme = programmes[0]
    if form.is_valid():
        data = form.cleaned_data
        programme = next(p for p in programmes if p.pk == data["program"])
        figures = coverage(programme, data["fodda_fran"], data["fodda_till"], today)
    return render(
        request,
        "visits/stats.html",
        {"form": form, "programme": programme, "programmes": programmes, "stats": figures},
    )
