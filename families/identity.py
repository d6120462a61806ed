"""Swedish identity numbers: personnummer and samordningsnummer.

Parsing and the Luhn check come from the `personnummer` library (see docs/decisions.md); this
module adds what the library leaves open: a future birth date is not a real date, and every
number is stored in one normal form of 12 digits (YYYYMMDDNNNC).
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from personnummer import personnummer as pnr_lib

INVALID_MESSAGE = _(
    "Enter a valid personnummer or samordningsnummer, e.g. 20180101-2384 or 180101-2384."
)


def normalise_identity_number(raw: str, *, today: datetime.date | None = None) -> str:
    """Return `raw` as 12 digits, or raise ValidationError with a message a user can act on.

    Accepts 10 or 12 digits with '-', '+' (100 years or older) or no separator; a
    samordningsnummer has 60 added to the day.
    """
    text = (raw or "").strip()
    if not text.isascii() or not text:
        raise ValidationError(INVALID_MESSAGE, code="invalid")
    today = today or timezone.localdate()
    number = _parse(text)
    if number.get_date() > today and len(text) <= 11:
        # Ten digits with '-' mean "under 100": the library picks the century by year only,
        # so a 99-year-old born later in the year comes out in the future. One century back.
        number = _parse(f"{int(number.century) - 1}{text}")
    if number.get_date() > today:
        raise ValidationError(_("The birth date lies in the future."), code="future")
    return number.format(long_format=True)


def _parse(text: str) -> pnr_lib.Personnummer:
    try:
        return pnr_lib.parse(text)
    except (pnr_lib.PersonnummerException, ValueError, TypeError) as error:
        raise ValidationError(INVALID_MESSAGE, code="invalid") from error


def birth_date_of(normalised: str) -> datetime.date:
    """Birth date of a normalised (12-digit) number; the day of a samordningsnummer less 60."""
    day = int(normalised[6:8])
    if day > 60:
        day -= 60
    return datetime.date(int(normalised[0:4]), int(normalised[4:6]), day)


def is_coordination_number(normalised: str) -> bool:
    return int(normalised[6:8]) > 60


def display_identity_number(normalised: str) -> str:
    """YYYYMMDD-NNNC, the form people read and type in health and social care."""
    return f"{normalised[:8]}-{normalised[8:]}" if len(normalised) == 12 else normalised


def validate_identity_number(value: str) -> None:
    """Model-field validator: the stored value must already be in normal form."""
    if normalise_identity_number(value) != value:
        raise ValidationError(INVALID_MESSAGE, code="not_normalised")
