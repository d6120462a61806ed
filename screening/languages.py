"""The languages the questionnaire comes in, each named in itself, with its writing direction."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QuestionnaireLanguage:
    code: str
    name: str  # in the language itself, as the picker shows it
    direction: str = "ltr"


LANGUAGES = [
    QuestionnaireLanguage("sv", "Svenska"),
    QuestionnaireLanguage("en", "English"),
    QuestionnaireLanguage("ar", "العربية", "rtl"),
    QuestionnaireLanguage("prs", "دری", "rtl"),
    QuestionnaireLanguage("so", "Soomaali"),
    QuestionnaireLanguage("ti", "ትግርኛ"),
    QuestionnaireLanguage("uk", "Українська"),
    QuestionnaireLanguage("fi", "Suomi"),
]
BY_CODE = {language.code: language for language in LANGUAGES}
REQUIRED = [language.code for language in LANGUAGES]


def direction(code: str) -> str:
    return BY_CODE[code].direction if code in BY_CODE else "ltr"
