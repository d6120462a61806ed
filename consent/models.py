"""Consents: given by each guardian for a named purpose, scope and period; revocable at once.

A consent is *effective* while every guardian with custody of the child has given it, no one has
withdrawn it, and today lies within its validity. `effective_from` and `withdrawn_at` are set by
the services in the same transaction as the guardian's act, so the policy can find effective
consents with one indexed query.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from directory.models import Organisation, Professional, Sector, Service, Team, Unit
from families.models import Child, Guardian

from .policy import Purpose


class ConsentQuerySet(models.QuerySet["Consent"]):
    def effective(self, at: datetime.datetime | None = None) -> ConsentQuerySet:
        at = at or timezone.now()
        today = timezone.localdate(at)
        return self.filter(
            effective_from__isnull=False,
            effective_from__lte=at,
            withdrawn_at__isnull=True,
            valid_from__lte=today,
            valid_until__gte=today,
        )

    def for_child_consents(self) -> ConsentQuerySet:
        """The child's consent page (and each consent's own pages): everything a consent
        shows, in a fixed number of queries however many consents there are."""
        return (
            self.select_related(
                "team", "service__provider", "recorded_by", "recorded_unit", "withdrawn_by"
            )
            .prefetch_related(
                models.Prefetch(
                    "scopes",
                    queryset=ConsentScope.objects.select_related("unit", "municipality").order_by(
                        "pk"
                    ),
                ),
                models.Prefetch(
                    "givings",
                    queryset=GuardianConsent.objects.select_related(
                        "guardian", "recorded_by"
                    ).order_by("given_at", "pk"),
                ),
            )
            .order_by("-valid_from", "-pk")
        )

    def covering_units(self, units: Iterable[Unit]) -> ConsentQuerySet:
        """Consents whose scope reaches one of `units` (`ConsentScope.reaching`)."""
        return self.filter(ConsentScope.reaching(units, through="scopes__"))


class Consent(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for a guardian")
        EFFECTIVE = "effective", _("In force")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        EXPIRED = "expired", _("Expired")
        NOT_YET = "not_yet", _("Not yet valid")

    child = models.ForeignKey(
        Child,
        verbose_name=_("child"),
        on_delete=models.PROTECT,
        related_name="consents",
        db_index=False,
    )
    purpose = models.CharField(_("purpose"), max_length=30, choices=Purpose.choices)
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consents",
        help_text=_("For team discussion: the team that may discuss the child."),
    )
    service = models.ForeignKey(
        Service,
        verbose_name=_("service"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consents",
        help_text=_("For a referral: the service the family is referred to."),
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    recorded_by = models.ForeignKey(
        Professional, on_delete=models.PROTECT, related_name="recorded_consents"
    )
    recorded_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    includes_screening_answers = models.BooleanField(
        _("includes the guardian's own screening answers"),
        default=False,
        help_text=_(
            "Only when the guardian explicitly agrees: otherwise a consent shares the "
            "nurse's summary and offers, never the answers."
        ),
    )
    child_view = models.TextField(
        _("the child's own view"),
        blank=True,
        help_text=_("What the child thinks, in the child's words where possible."),
    )
    child_age_years = models.PositiveSmallIntegerField(_("the child's age when asked"))
    form_language = models.CharField(_("form language"), max_length=5, default="sv")
    # The exact text the guardians agreed to, kept even if the form template changes later.
    form_text = models.TextField(_("consent text as agreed"))
    effective_from = models.DateTimeField(null=True, blank=True, db_index=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        Guardian, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        indexes = [models.Index(fields=["child", "purpose"], name="consent_child_purpose_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("valid_from")),
                name="consent_valid_period",
            ),
            models.CheckConstraint(
                condition=~Q(purpose="team_discussion") | Q(team__isnull=False),
                name="consent_team_discussion_names_team",
            ),
            models.CheckConstraint(
                condition=~Q(purpose="referral") | Q(service__isnull=False),
                name="consent_referral_names_service",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} #{self.pk}"

    def state(self, at: datetime.datetime | None = None) -> State:
        at = at or timezone.now()
        today = timezone.localdate(at)
        if self.withdrawn_at is not None and self.withdrawn_at <= at:
            return self.State.WITHDRAWN
        if today > self.valid_until:
            return self.State.EXPIRED
        if today < self.valid_from:
            return self.State.NOT_YET
        if self.effective_from is None or self.effective_from > at:
            return self.State.PENDING
        return self.State.EFFECTIVE


class ConsentScope(models.Model):
    """Who may receive what the consent covers: one named unit, or a whole sector within one
    municipality (the social services of the municipality where the family lives, say):
    never a sector in the whole country."""

    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="scopes")
    sector = models.CharField(_("sector"), max_length=30, choices=Sector.choices, blank=True)
    municipality = models.ForeignKey(
        Organisation,
        verbose_name=_("municipality"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # led by scope_sector_wide
        help_text=_("For a sector: the municipality whose units of that sector it reaches."),
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, null=True, blank=True
    )

    class Meta:
        verbose_name = _("consent scope")
        indexes = [
            # Sector-wide scopes, looked up by sector and municipality on every child list
            # (`reaching`).
            models.Index(
                fields=["sector", "municipality"],
                condition=Q(unit__isnull=True),
                name="scope_sector_wide",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(unit__isnull=True) & ~Q(sector="") & Q(municipality__isnull=False))
                | (Q(unit__isnull=False) & Q(sector="") & Q(municipality__isnull=True)),
                name="consent_scope_sector_or_unit",
            )
        ]

    def __str__(self) -> str:
        if self.unit_id:
            return str(self.unit)
        return _("%(sector)s in %(municipality)s") % {
            "sector": self.get_sector_display(),
            "municipality": self.municipality,
        }

    def reaches(self, unit: Unit) -> bool:
        """Does this scope reach `unit`: the unit itself, or its sector in its municipality?
        The same rule as `reaching`, for scopes already read."""
        if self.unit_id is not None:
            return self.unit_id == unit.pk
        return self.sector == unit.sector and self.municipality_id == unit.municipality_id

    @staticmethod
    def reaching(units: Iterable[Unit], through: str = "") -> Q:
        """Scopes that reach one of `units` (`reaches`), as a condition on scopes (or, with
        `through`, on what leads to them). The units' ids, sectors and municipalities go in
        as values, not as a subquery: then the database can tell from its statistics how few
        scopes match (with a subquery PostgreSQL expected half the consents, and so hashed
        every child in the country to join them)."""
        units = list(units)
        condition = Q(**{f"{through}unit__in": [unit.pk for unit in units]})
        for sector, municipality in sorted({(u.sector, u.municipality_id) for u in units}):
            condition |= Q(
                **{
                    f"{through}unit__isnull": True,
                    f"{through}sector": sector,
                    f"{through}municipality": municipality,
                }
            )
        return condition


class GuardianConsent(models.Model):
    """One guardian's act of giving consent, and of withdrawing it."""

    class Method(models.TextChoices):
        SIGNED_FORM = "signed_form", _("Signed form (uploaded)")
        TABLET = "tablet", _("Confirmed by the guardian on the tablet")
        VERBAL = "verbal", _("Verbal, documented with a witness")

    consent = models.ForeignKey(
        Consent, on_delete=models.CASCADE, related_name="givings", db_index=False
    )
    guardian = models.ForeignKey(Guardian, on_delete=models.PROTECT, related_name="consents")
    method = models.CharField(_("how it was given"), max_length=20, choices=Method.choices)
    witness = models.CharField(_("witness"), max_length=200, blank=True)
    document = models.FileField(_("signed form"), upload_to="consents/%Y/", blank=True)
    given_at = models.DateTimeField(_("given"))
    recorded_by = models.ForeignKey(Professional, on_delete=models.PROTECT, related_name="+")
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    class Meta:
        verbose_name = _("guardian's consent")
        verbose_name_plural = _("guardians' consents")
        constraints = [
            models.UniqueConstraint(fields=["consent", "guardian"], name="guardian_consent_once"),
            models.CheckConstraint(
                condition=~Q(method="verbal") | ~Q(witness=""), name="verbal_consent_witness"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guardian} – {self.consent}"
