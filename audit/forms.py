from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

# The log starts with Samverkan; the bounds keep date arithmetic far from its limits.
FIRST, LAST = datetime.date(2000, 1, 1), datetime.date(2999, 12, 31)


class ExtractPeriodForm(forms.Form):
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def _in_range(self, name: str) -> datetime.date | None:
        value = self.cleaned_data.get(name)
        if value and not FIRST <= value <= LAST:
            raise forms.ValidationError(
                _("Choose a date between %(first)s and %(last)s."),
                params={"first": FIRST.isoformat(), "last": LAST.isoformat()},
                code="out_of_range",
            )
        return value

    def clean_since(self) -> datetime.date | None:
        return self._in_range("since")

    def clean_until(self) -> datetime.date | None:
        return self._in_range("until")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError(_("The start date must be on or before the end date."))
        return data
