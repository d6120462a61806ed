from __future__ import annotations

from typing import Any

from django import forms

from .identity import display_identity_number, normalise_identity_number


class IdentityNumberFormField(forms.CharField):
    """Accepts any written form of a personnummer/samordningsnummer; cleans to 12 digits."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 13)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, str) and len(value) == 12 and value.isdigit():
            return display_identity_number(value)
        return value

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        if text is None or text in self.empty_values:
            return ""
        return normalise_identity_number(text)
