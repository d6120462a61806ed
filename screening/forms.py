"""Forms of BarnSäkert: the nurse's start form and the kiosk's code entry."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from families.models import Guardian

from .models import Occasion


class OccasionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Occasion) -> str:
        return str(obj)


class GuardianChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Guardian) -> str:
        return obj.full_name


class ScreeningStartForm(forms.Form):
    """Which occasion this visit is, and which of the child's guardians are present."""

    occasion = OccasionChoiceField(
        label=_("Occasion"), queryset=Occasion.objects.none(), widget=forms.RadioSelect
    )
    guardians = GuardianChoiceField(
        label=_("Guardians present"),
        help_text=_("Each guardian answers alone and gets a code of their own."),
        queryset=Guardian.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose the guardian or guardians who are present.")},
    )

    def __init__(
        self,
        *args: object,
        occasions: list[Occasion],
        guardians: list[Guardian],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["occasion"]
        field.queryset = Occasion.objects.filter(pk__in=[o.pk for o in occasions]).order_by(  # type: ignore[attr-defined]
            "order"
        )
        self.fields["guardians"].queryset = Guardian.objects.filter(  # type: ignore[attr-defined]
            pk__in=[g.pk for g in guardians]
        ).order_by("pk")


class KioskCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Your code"),
        max_length=20,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "autocorrect": "off",
                "spellcheck": "false",
                "inputmode": "text",
                "class": "code-input",
            }
        ),
    )
