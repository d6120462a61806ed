"""The regional statistics page for process leaders: counts only, small cells suppressed."""

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
from directory.models import Organisation
from samverkan.db_routers import replica_reads

from .statistics import regional_statistics

DEFAULT_MONTHS = 12
LONGEST_PERIOD_YEARS = 5


class PeriodForm(forms.Form):
    """Which region, and which period (both days included)."""

    region = forms.TypedChoiceField(label=_("Region"), coerce=int)
    fran = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    till = forms.DateField(
        label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self, *args: Any, regions: list[Organisation], today: datetime.date, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.today = today
        region = cast(forms.TypedChoiceField, self.fields["region"])  # the field declared above
        region.choices = [(r.pk, r.name) for r in regions]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        until = data.get("till") or self.today
        since = data.get("fran") or until - relativedelta(months=DEFAULT_MONTHS) + relativedelta(
            days=1
        )
        if since > until:
            raise forms.ValidationError(_("The period must end after it starts."))
        if until > self.today:
            raise forms.ValidationError(_("The period cannot end in the future."))
        if until - since > datetime.timedelta(days=366 * LONGEST_PERIOD_YEARS):
            raise forms.ValidationError(
                _("Choose a period of at most %(years)s years."),
                params={"years": LONGEST_PERIOD_YEARS},
            )
        data["fran"], data["till"] = since, until
        return data


@require_GET
def regional(request: HttpRequest) -> HttpResponse:
    """The figures of one region the policy lets the user see (default: the last twelve
    months). A user who may see no region, or who asks for another one, gets a 404."""
    regions = list(policy.statistics_regions(request.user).order_by("name"))
    wanted = request.GET.get("region", "")
    if not regions or (wanted and wanted not in {str(r.pk) for r in regions}):
        raise Http404
    today = timezone.localdate()
    defaults = {
        "region": str(regions[0].pk),
        "fran": (today - relativedelta(months=DEFAULT_MONTHS) + relativedelta(days=1)).isoformat(),
        "till": today.isoformat(),
    }
    asked = {key: value for key, value in request.GET.items() if key in defaults and value}
    form = PeriodForm(defaults | asked, regions=regions, today=today)
    figures = None
    if form.is_valid():
        data = form.cleaned_data
        region = next(r for r in regions if r.pk == data["region"])
        with replica_reads():  # the aggregates only: the policy above read the primary
            figures = regional_statistics(region, data["fran"], data["till"])
    return render(request, "reports/regional.html", {"form": form, "stats": figures})
