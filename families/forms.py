from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from directory.models import Sector, Unit

from .fields import IdentityNumberFormField
from .identity import birth_date_of
from .models import Custody, Language, ProtectionLevel

# Units whose own children these are: child health care and preschool/school.
REGISTERING_SECTORS = [Sector.CHILD_HEALTH, Sector.PRESCHOOL, Sector.SCHOOL]


class ChildSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search by name or identity number"),
        required=False,
        max_length=100,
        strip=True,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )

    def clean_q(self) -> str:
        text: str = self.cleaned_data["q"]
        if any(not (ch.isalnum() or ch in " -+'") for ch in text):
            raise forms.ValidationError(
                _("Use letters, digits, spaces, hyphen or plus only."), code="invalid"
            )
        return text


class ChildRegistrationForm(forms.Form):
    """A child a unit starts caring for, e.g. a newborn at the BVC."""

    identity_number = IdentityNumberFormField(
        label=_("Personal identity number"),
        required=False,
        help_text=_("Personnummer or samordningsnummer, 10 or 12 digits."),
    )
    reserve_number = forms.RegexField(
        label=_("Reserve number"),
        regex=r"^[A-Za-z0-9-]{4,20}$",
        required=False,
        help_text=_("Only if the child has no identity number yet."),
        error_messages={"invalid": _("A reserve number has 4-20 letters, digits or hyphens.")},
    )
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Taken from the identity number when left empty."),
    )
    street_address = forms.CharField(label=_("Street address"), max_length=200, required=False)
    postal_code = forms.RegexField(
        label=_("Postal code"),
        regex=r"^\d{3} ?\d{2}$",
        required=False,
        error_messages={"invalid": _("A postal code has five digits, e.g. 991 30.")},
    )
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    area = forms.CharField(label=_("Area"), max_length=100, required=False)
    protection = forms.ChoiceField(
        label=_("Protected identity"), choices=ProtectionLevel.choices, initial=ProtectionLevel.NONE
    )
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=Unit.objects.none(), empty_label=None)
    custody = forms.ChoiceField(label=_("Custody"), choices=Custody.Kind.choices)

    def __init__(self, *args: Any, units: list[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["unit"]).queryset = Unit.objects.filter(
            pk__in=[unit.pk for unit in units], sector__in=REGISTERING_SECTORS
        )

    def clean_postal_code(self) -> str:
        return self.cleaned_data["postal_code"].replace(" ", "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        number, reserve = data.get("identity_number"), data.get("reserve_number")
        if not number and not reserve and "identity_number" not in self.errors:
            raise forms.ValidationError(_("Give an identity number or a reserve number."))
        if number:
            derived = birth_date_of(number)
            if data.get("birth_date") and data["birth_date"] != derived:
                self.add_error(
                    "birth_date", _("The birth date does not match the identity number.")
                )
            data["birth_date"] = derived
        elif not data.get("birth_date") and "birth_date" not in self.errors:
            self.add_error("birth_date", _("Give the birth date when there is no identity number."))
        return data


class GuardianForm(forms.Form):
    identity_number = IdentityNumberFormField(label=_("Personal identity number"))
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    phone = forms.RegexField(
        label=_("Phone"),
        regex=r"^\+?[0-9 ()-]{6,20}$",
        required=False,
        error_messages={"invalid": _("Enter a phone number, e.g. 070-123 45 67.")},
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    preferred_language = forms.ChoiceField(
        label=_("Preferred language"), choices=Language.choices, initial=Language.SWEDISH
    )
    needs_interpreter = forms.BooleanField(label=_("Needs an interpreter"), required=False)
