"""Children, their guardians and custody.

Identified child data is read only through `Child.objects.visible_to(user)`, which asks the
access policy (consent/policy.py). Nothing here is registered in the Django admin: every read
of a child must be audited, and the admin would bypass that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.models import Sector, Unit

from .identity import birth_date_of, display_identity_number, validate_identity_number

if TYPE_CHECKING:
    from collections.abc import Collection

    from directory.models import Professional


class ProtectionLevel(models.TextChoices):
    """Protected identity (skyddade personuppgifter), from the population register."""

    NONE = "none", _("None")
    SECRECY_MARKING = "secrecy_marking", _("Secrecy marking")
    PROTECTED_ADDRESS = "protected_address", _("Protected registered address")
    ASSUMED_IDENTITY = "assumed_identity", _("Assumed identity")


class Language(models.TextChoices):
    """Languages families ask for; the code is ISO 639 (prs = Dari)."""

    SWEDISH = "sv", "svenska"
    ENGLISH = "en", "English"
    ARABIC = "ar", "العربية"
    SOMALI = "so", "Soomaali"
    TIGRINYA = "ti", "ትግርኛ"
    DARI = "prs", "دری"
    PERSIAN = "fa", "فارسی"
    UKRAINIAN = "uk", "Українська"
    FINNISH = "fi", "suomi"
    POLISH = "pl", "polski"
    BOSNIAN = "bs", "bosanski"
    KURDISH = "ku", "Kurdî"


class Person(models.Model):
    """What children and guardians share: identity and address."""

    # NULL, not "", when missing: each number is unique (`_identifiers`), and many have none.
    identity_number = models.CharField(  # noqa: DJ001
        _("personal identity number"),
        max_length=12,
        null=True,
        blank=True,
        validators=[validate_identity_number],
        help_text=_("Personnummer or samordningsnummer, stored as 12 digits."),
    )
    reserve_number = models.CharField(  # noqa: DJ001
        _("reserve number"),
        max_length=20,
        null=True,
        blank=True,
        help_text=_("The region's reserve number for a person without an identity number."),
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    street_address = models.CharField(_("street address"), max_length=200, blank=True)
    # Not indexed: nothing looks a person up by postal code (the home-visit areas compare
    # the code without its space, among a unit's children).
    postal_code = models.CharField(_("postal code"), max_length=6, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    protection = models.CharField(
        _("protected identity"),
        max_length=20,
        choices=ProtectionLevel.choices,
        default=ProtectionLevel.NONE,
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def identifier(self) -> str:
        """What staff read as the person's number: identity number or reserve number."""
        if self.identity_number:
            return display_identity_number(self.identity_number)
        return self.reserve_number or ""

    @property
    def is_protected(self) -> bool:
        return self.protection != ProtectionLevel.NONE


def _identifiers(prefix: str) -> list[models.BaseConstraint]:
    """At least one identifier, and each number only once. Constraints, not unique=True: on
    PostgreSQL that adds a second index "for LIKE" searches to each, which no search uses
    (a number is searched by the digits it contains), on the two largest tables."""
    return [
        models.CheckConstraint(
            condition=Q(identity_number__isnull=False) | Q(reserve_number__isnull=False),
            name=f"{prefix}_has_identifier",
            violation_error_message=_("Give an identity number or a reserve number."),
        ),
        models.UniqueConstraint(fields=["identity_number"], name=f"{prefix}_identity_once"),
        models.UniqueConstraint(fields=["reserve_number"], name=f"{prefix}_reserve_once"),
    ]


class ChildQuerySet(models.QuerySet["Child"]):
    def visible_to(self, user: Professional, among: Collection[int] | None = None) -> ChildQuerySet:
        """Children whose identified data `user` may see; the policy decides which.
        `among`: only these ids, each looked up by itself (a page that names a few children)."""
        from consent import policy

        return policy.visible_children(user, self, among=among)

    def search(self, text: str) -> ChildQuerySet:
        """Match a name (every word) or an identity/reserve number (any written form)."""
        text = text.strip()
        if not text:
            return self
        digits = "".join(ch for ch in text if ch.isdigit())
        if digits and len(digits) >= 6 and not any(ch.isalpha() for ch in text):
            # 10-digit forms leave out the century: match on the last digits typed.
            return self.filter(
                Q(identity_number__contains=digits) | Q(reserve_number__contains=digits)
            )
        query = Q()
        for word in text.split():
            query &= (
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(reserve_number__iexact=word)
            )
        return self.filter(query)

    def for_child_list(self) -> ChildQuerySet:
        """The start page's list: the columns it shows, with the units it names."""
        return self.select_related("bvc_unit", "school_unit").order_by(
            "last_name", "first_name", "pk"
        )


class Child(Person):
    birth_date = models.DateField(_("birth date"))
    area = models.CharField(
        _("area"), max_length=100, blank=True, help_text=_("District or part of town.")
    )
    bvc_unit = models.ForeignKey(
        Unit,
        verbose_name=_("child health care unit (BVC)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bvc_children",
        limit_choices_to={"sector": Sector.CHILD_HEALTH},
        db_index=False,  # led by the unit's covering index below
    )
    school_unit = models.ForeignKey(
        Unit,
        verbose_name=_("preschool or school"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="school_children",
        limit_choices_to={"sector__in": [Sector.PRESCHOOL, Sector.SCHOOL]},
        db_index=False,  # led by the unit's covering index below
    )
    guardians: models.ManyToManyField[Guardian, Custody] = models.ManyToManyField(
        "Guardian", through="Custody", related_name="children", verbose_name=_("guardians")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("child")
        verbose_name_plural = _("children")
        constraints = _identifiers("child")
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="child_name_idx"),
            # A unit's children (the access policy, worklists) and a region's children by
            # BVC unit and age window (statistics). The ids and the names (the start page's
            # order) are in the index so that these are read from the index alone: a unit's
            # children lie on a thousand different table pages in a country of two million,
            # on a few index pages here.
            models.Index(
                fields=["bvc_unit", "birth_date", "id"],
                include=["last_name", "first_name"],
                name="child_unit_named_idx",
            ),
            models.Index(
                fields=["school_unit", "id"],
                include=["last_name", "first_name"],
                name="child_school_named_idx",
            ),
        ]

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.identity_number and len(self.identity_number) == 12:
            try:
                expected = birth_date_of(self.identity_number)
            except ValueError:
                return
            if self.birth_date and self.birth_date != expected:
                raise ValidationError(
                    {"birth_date": _("The birth date does not match the identity number.")}
                )

    def unit_ids(self) -> set[int]:
        """The units the child belongs to (own units for the access policy)."""
        return {uid for uid in (self.bvc_unit_id, self.school_unit_id) if uid}


class Guardian(Person):
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=5, choices=Language.choices, default=Language.SWEDISH
    )
    needs_interpreter = models.BooleanField(_("needs an interpreter"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("guardian")
        verbose_name_plural = _("guardians")
        constraints = _identifiers("guardian")


class Custody(models.Model):
    """A guardian's custody of a child: sole, or joint with the child's other guardian(s)."""

    class Kind(models.TextChoices):
        JOINT = "joint", _("Joint custody")
        SOLE = "sole", _("Sole custody")

    child = models.ForeignKey(
        Child, on_delete=models.CASCADE, related_name="custodies", db_index=False
    )
    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="custodies")

    class Relation(models.TextChoices):
        MOTHER = "mother", _("Mother")
        FATHER = "father", _("Father")
        PARENT = "parent", _("Parent")
        APPOINTED = "appointed", _("Appointed guardian")

    kind = models.CharField(_("custody"), max_length=10, choices=Kind.choices)
    relation = models.CharField(
        _("relation to the child"),
        max_length=10,
        choices=Relation.choices,
        default=Relation.PARENT,
    )

    class Meta:
        verbose_name = _("custody")
        verbose_name_plural = _("custodies")
        constraints = [
            models.UniqueConstraint(fields=["child", "guardian"], name="custody_unique"),
            # A child has at most one guardian with sole custody.
            models.UniqueConstraint(
                fields=["child"], condition=Q(kind="sole"), name="custody_one_sole"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guardian} – {self.child} ({self.get_kind_display()})"
