"""Fictional identity numbers for demo and test data.

Birth numbers 980-999 are the series Skatteverket uses for its published test personnummer,
so these numbers pass validation without belonging to anyone real.
"""

from __future__ import annotations

import datetime


def luhn_check_digit(nine_digits: str) -> int:
    total = 0
    for index, char in enumerate(nine_digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10


def fictional_personnummer(
    birth_date: datetime.date, serial: int, *, coordination: bool = False
) -> str:
    """A 12-digit test number; `serial` 0-19 picks a birth number in the 980-999 series."""
    if not 0 <= serial <= 19:
        raise ValueError("serial must be 0-19 (birth numbers 980-999)")
    day = birth_date.day + (60 if coordination else 0)
    body = f"{birth_date:%y%m}{day:02d}{980 + serial}"
    return f"{birth_date:%Y%m}{day:02d}{980 + serial}{luhn_check_digit(body)}"
