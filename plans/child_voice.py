"""An age-adapted prompt for gathering the child's voice, shown next to the field.

The child's view must be heard even when the child does not attend the meeting. How depends on
age and maturity; the prompt is a reminder for the professional, not a rule (maturity, not a
fixed age, decides how much the child's view weighs).
"""

from __future__ import annotations

import datetime

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from families.ages import age_in_years

# (from age in whole years, prompt): the last band whose age is reached applies.
BANDS: list[tuple[int, Promise]] = [
    (
        0,
        _(
            "0–2 years: observe the child's play, reactions and contact with the adults, and "
            "ask the guardians what the child shows when it is content or upset."
        ),
    ),
    (
        3,
        _(
            "3–5 years: ask a few simple questions, use pictures or play, and write down the "
            "child's own words."
        ),
    ),
    (
        6,
        _(
            "6–12 years: ask “What works well? What is hard? What would you like to change?” "
            "and write the answers in the child's own words."
        ),
    ),
    (
        13,
        _(
            "13 years and older: the young person's own words; they may take part in the "
            "meeting themselves, and their view weighs more with age and maturity."
        ),
    ),
]


def voice_prompt(birth_date: datetime.date, on: datetime.date | None = None) -> str:
    """The prompt for a child born on `birth_date`, as of `on` (today by default)."""
    age = age_in_years(birth_date, on)
    prompt = BANDS[0][1]
    for from_age, text in BANDS:
        if age >= from_age:
            prompt = text
    return str(prompt)
