"""BarnSäkert: versioned questionnaires, screening occasions, per-guardian kiosk sessions,
answers, follow-up and the joint support calendar.

A guardian's answers belong to the health-care unit that ran the screening: they are read only
through `screening.queries`, which asks the access policy, and never reach the other guardian,
a family-facing page or the kiosk after submission.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.models import Organisation, Professional, Service, Unit
from families.models import Child, Guardian


class Domain(models.TextChoices):
    CHILD_SAFETY = "child_safety", _("Child safety")
    ECONOMIC_WORRY = "economic_worry", _("Economic worry")
    LOW_MOOD = "low_mood", _("Low mood")
    PARENTAL_STRESS = "parental_stress", _("Parental stress")
    SUBSTANCE_USE = "substance_use", _("Risky use and substance abuse")
    VIOLENCE = "violence", _("Violence now or earlier")


class Questionnaire(models.Model):
    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")

    def __str__(self) -> str:
        return self.name


class PublishedError(Exception):
    """A published questionnaire version never changes: publish a new version instead."""


class QuestionnaireVersion(models.Model):
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.PROTECT, related_name="versions", db_index=False
    )
    version = models.PositiveIntegerField(_("version"))
    label = models.CharField(_("label"), max_length=300, blank=True)
    is_example = models.BooleanField(
        _("example text"),
        default=False,
        help_text=_("Worded by the Samverkan project; a region replaces it with its own text."),
    )
    source_file = models.CharField(_("source file"), max_length=300)
    checksum = models.CharField(_("checksum (SHA-256)"), max_length=64)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    # The kiosk's own words (next, back, review, thank you, ...) per language: {lang: {key: text}}
    ui_texts = models.JSONField(_("kiosk texts"), default=dict)

    class Meta:
        verbose_name = _("questionnaire version")
        verbose_name_plural = _("questionnaire versions")
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "version"], name="qv_unique")
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire} v{self.version}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if (
            self.pk
            and QuestionnaireVersion.objects.filter(pk=self.pk, published_at__isnull=False).exists()
        ):
            raise PublishedError(str(self))
        super().save(*args, **kwargs)


class Item(models.Model):
    version = models.ForeignKey(
        QuestionnaireVersion, on_delete=models.PROTECT, related_name="items", db_index=False
    )
    number = models.PositiveSmallIntegerField(_("number"))
    domain = models.CharField(_("domain"), max_length=30, choices=Domain.choices)
    options = models.JSONField(_("answer options"), help_text=_("Option codes, in order."))
    positive = models.JSONField(_("positive answers"), help_text=_("Option codes that count."))
    guidance_sv = models.TextField(_("guidance for the nurse (Swedish)"))
    guidance_en = models.TextField(_("guidance for the nurse (English)"))

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["version", "number"], name="item_unique")]

    def __str__(self) -> str:
        return f"{self.version} #{self.number}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.version.published_at is not None:
            raise PublishedError(str(self.version))
        super().save(*args, **kwargs)


class ItemText(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        REVIEWED = "reviewed", _("Reviewed")

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="texts", db_index=False)
    language = models.CharField(_("language"), max_length=5)
    text = models.TextField(_("question"))
    option_labels = models.JSONField(_("option labels"), help_text=_("Option code to label."))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)

    class Meta:
        verbose_name = _("item text")
        verbose_name_plural = _("item texts")
        constraints = [
            models.UniqueConstraint(fields=["item", "language"], name="item_text_unique")
        ]

    def __str__(self) -> str:
        return f"{self.item} [{self.language}]"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.item.version.published_at is not None:
            raise PublishedError(str(self.item.version))
        super().save(*args, **kwargs)


class RegionScreeningSettings(models.Model):
    """A region's choices: hide unreviewed translations, the questionnaire version in use."""

    region = models.OneToOneField(
        Organisation,
        on_delete=models.CASCADE,
        related_name="screening_settings",
        limit_choices_to={"kind": Organisation.Kind.REGION},
    )
    version_in_use = models.ForeignKey(
        QuestionnaireVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        limit_choices_to={"published_at__isnull": False},
    )
    hide_unreviewed_translations = models.BooleanField(
        _("hide unreviewed translations"), default=False
    )
    code_minutes = models.PositiveSmallIntegerField(_("kiosk code valid (minutes)"), default=30)

    class Meta:
        verbose_name = _("region's screening settings")

    def __str__(self) -> str:
        return str(self.region)


class Occasion(models.Model):
    """A screening occasion defined by a child age window, configurable per region."""

    region = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="screening_occasions",
        limit_choices_to={"kind": Organisation.Kind.REGION},
        db_index=False,
    )
    order = models.PositiveSmallIntegerField(_("order"))
    name_sv = models.CharField(_("name (Swedish)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    min_age_days = models.PositiveIntegerField(_("from age (days)"))
    max_age_days = models.PositiveIntegerField(_("to age (days)"))

    class Meta:
        verbose_name = _("screening occasion")
        verbose_name_plural = _("screening occasions")
        ordering = ["region", "order"]
        constraints = [
            models.UniqueConstraint(fields=["region", "order"], name="occasion_unique"),
            models.CheckConstraint(
                condition=Q(max_age_days__gte=models.F("min_age_days")), name="occasion_window"
            ),
        ]

    def __str__(self) -> str:
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "sv").startswith("en") else self.name_sv


class Screening(models.Model):
    """One occasion's screening of a child at a BVC visit, for the guardian(s) present."""

    child = models.ForeignKey(
        Child, on_delete=models.PROTECT, related_name="screenings", db_index=False
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="screenings")
    occasion = models.ForeignKey(Occasion, on_delete=models.PROTECT, related_name="screenings")
    version = models.ForeignKey(
        QuestionnaireVersion, on_delete=models.PROTECT, related_name="screenings"
    )
    started_by = models.ForeignKey(Professional, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(_("started"), auto_now_add=True)

    class Meta:
        verbose_name = _("screening")
        verbose_name_plural = _("screenings")
        indexes = [models.Index(fields=["child", "occasion"], name="screening_child_occ_idx")]

    def __str__(self) -> str:
        return f"{self.child_id} {self.occasion}"


class KioskSession(models.Model):
    """One guardian's turn at the tablet: a short one-time code, stored only as a hash."""

    # Led by the unique (screening, guardian) below: an index of its own would be a second
    # copy to write.
    screening = models.ForeignKey(
        Screening, on_delete=models.PROTECT, related_name="sessions", db_index=False
    )
    guardian = models.ForeignKey(Guardian, on_delete=models.PROTECT, related_name="+")
    code_hash = models.CharField(max_length=64)  # unique: see Meta
    expires_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("kiosk session")
        constraints = [
            models.UniqueConstraint(fields=["screening", "guardian"], name="kiosk_once"),
            # A constraint, not unique=True: on PostgreSQL that adds a second index for LIKE
            # searches, which a hash never gets.
            models.UniqueConstraint(fields=["code_hash"], name="kiosk_code_once"),
        ]

    def __str__(self) -> str:
        return f"session {self.pk}"


class KioskAttempt(models.Model):
    """A failed code entry at the kiosk, counted per client address to stop guessing. Kept in
    the database, not in a process, so every app server counts the same attempts; rows older
    than the throttle window are deleted as new ones come in."""

    client_ip = models.GenericIPAddressField(_("client address"))
    attempted_at = models.DateTimeField(_("attempted"), db_index=True)

    class Meta:
        verbose_name = _("failed kiosk code entry")
        verbose_name_plural = _("failed kiosk code entries")
        indexes = [models.Index(fields=["client_ip", "attempted_at"], name="kiosk_attempt_ip_idx")]

    def __str__(self) -> str:
        return f"{self.client_ip} {self.attempted_at:%Y-%m-%d %H:%M:%S}"


class Response(models.Model):
    """A guardian's submitted answers; created once per session (idempotent submit)."""

    session = models.OneToOneField(KioskSession, on_delete=models.PROTECT, related_name="response")
    screening = models.ForeignKey(Screening, on_delete=models.PROTECT, related_name="responses")
    # The screening's unit, copied when the response is stored (a screening never moves), so
    # that one index holds both the unit and the period of the regional statistics.
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", db_index=False)
    # Led by response_guardian_idx below.
    guardian = models.ForeignKey(
        Guardian, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    version = models.ForeignKey(QuestionnaireVersion, on_delete=models.PROTECT, related_name="+")
    language = models.CharField(_("language"), max_length=5)
    submitted_at = models.DateTimeField(_("submitted"))
    idempotency_key = models.CharField(max_length=64)  # unique: see Meta
    content_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        indexes = [
            models.Index(fields=["guardian", "submitted_at"], name="response_guardian_idx"),
            # Regional statistics: the responses of a region's units in a period.
            models.Index(fields=["unit", "submitted_at"], name="response_unit_submitted_idx"),
        ]
        # A constraint, not unique=True (no second index for LIKE searches; see KioskSession).
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="response_key_once")
        ]

    def __str__(self) -> str:
        return f"response {self.pk}"


class SubmissionClaim(models.Model):
    """A submission being stored right now, under its idempotency key: committed on its own
    before the response is written, and removed in the same transaction that writes it. A
    second request with the same key meanwhile is told the first is still in flight (HTTP
    409). A claim left behind by a process that died half-way expires after
    `screening.services.CLAIM_TIMEOUT`, so a later retry is never blocked for good."""

    idempotency_key = models.CharField(max_length=64)  # unique: see Meta
    content_hash = models.CharField(max_length=64)
    token = models.CharField(max_length=32)  # whose claim it is: only the owner removes it
    claimed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["idempotency_key"], name="claim_key_once")]

    def __str__(self) -> str:
        return f"claim {self.pk}"


class Answer(models.Model):
    # Led by answer_once below: eighteen rows a submission, each written to every index.
    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="answers", db_index=False
    )
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    option = models.CharField(max_length=30, blank=True, help_text=_("Empty: left unanswered."))
    positive = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["response", "item"], name="answer_once")]
        indexes = [
            # Regional statistics: a region's responses of a period joined to their positive
            # answers only (about one answer in fifteen), per response; the item tells the
            # domain, so a vacuumed table is read from the index alone.
            models.Index(
                fields=["response", "item"],
                name="answer_positive_idx",
                condition=models.Q(positive=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.number}={self.option or '-'}"


class FollowUp(models.Model):
    """The nurse's conversation with one guardian about their answers, and what was offered."""

    class Reply(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        LATER = "later", _("Later")

    response = models.ForeignKey(Response, on_delete=models.PROTECT, related_name="follow_ups")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    written_by = models.ForeignKey(Professional, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField(auto_now_add=True)
    conversation = models.TextField(_("the conversation"))
    summary = models.TextField(
        _("summary that may be shared"),
        blank=True,
        help_text=_("What a consent to share may pass on; never the answers themselves."),
    )
    offered = models.ManyToManyField(Service, verbose_name=_("support offered"), blank=True)
    reply = models.CharField(
        _("the guardian's answer"), max_length=10, choices=Reply.choices, blank=True
    )
    referral = models.ForeignKey(
        "cases.Referral", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")

    def __str__(self) -> str:
        return f"follow-up {self.pk}"


class SupportSlot(models.Model):
    """A time BVC and social services keep together for joint support ("the regular time set
    aside"); booked for one family or free."""

    health_unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    social_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    child = models.ForeignKey(
        Child, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    booked_by = models.ForeignKey(
        Professional, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("joint support slot")
        verbose_name_plural = _("joint support slots")
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["health_unit", "social_unit", "starts_at"], name="slot_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M}"
