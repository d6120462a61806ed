"""A child's age as forms and plans state it."""

from __future__ import annotations

import datetime

from django.utils import timezone


def age_in_years(birth_date: datetime.date, on: datetime.date | None = None) -> int:
    """Completed years on `on` (default: today); 0 before the birth date (a consent or plan
    dated before the child was born states no age)."""
    on = on or timezone.localdate()
    years = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    return max(0, years)
