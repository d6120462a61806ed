"""The tamper-evident access log.

Each event stores copies of who and what (so it survives renames and deletions) and the hash
of the event before it: editing, deleting or reordering any row breaks the chain, which
`manage.py verify_audit` detects. The database itself refuses UPDATE and DELETE on the table
(triggers in migration 0002).

How an event's hash is made is recorded per event (`Scheme`): the events stored under the
first scheme keep it and still verify.
"""

from __future__ import annotations

import hashlib
import json

from django.db import models
from django.utils.translation import gettext_lazy as _

from consent.policy import Basis, Purpose
from directory.models import Profession

GENESIS_HASH = "0" * 64


class Scheme(models.IntegerChoices):
    # SHA-256 of one JSON document of every field (the chain's first events).
    WHOLE = 1, _("all fields in one document")
    # SHA-256 of "previous hash:seq:digest of the other fields": PostgreSQL can then link an
    # event to its predecessor inside the statement that appends it (`audit.services`).
    LINKED = 2, _("previous hash, sequence number and a digest of the other fields")


def link(prev_hash: str, seq: int, body_digest: str) -> str:
    """An event's hash under `Scheme.LINKED`. Its twin in SQL: `audit_link` (migration 0008)."""
    return hashlib.sha256(f"{prev_hash}:{seq}:{body_digest}".encode("ascii")).hexdigest()


def _json(payload: dict[str, object]) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")


class Action(models.TextChoices):
    LIST_CHILDREN = "list_children", _("Listed or searched the unit's children")
    VIEW_CHILD = "view_child", _("Viewed the child's page")
    REGISTER_CHILD = "register_child", _("Registered the child")
    LOG_EXTRACT = "log_extract", _("Produced an access-log extract")
    CONSENT_RECORD = "consent_record", _("Recorded a consent")
    CONSENT_GIVE = "consent_give", _("Recorded a guardian's consent")
    CONSENT_WITHDRAW = "consent_withdraw", _("Recorded a withdrawal of consent")
    VIEW_CONSENT = "view_consent", _("Viewed a consent")
    CONCERN_RECORD = "concern_record", _("Recorded a concern")
    CONCERN_IDENTIFY = "concern_identify", _("Linked a concern to the child")
    VIEW_CONCERN = "view_concern", _("Viewed a case")
    VIEW_MEETING_ITEM = "view_meeting_item", _("Saw the child on a meeting agenda")
    MINUTES_SAVE = "minutes_save", _("Wrote minutes")
    MINUTES_AMEND = "minutes_amend", _("Amended closed minutes")
    REFERRAL_SEND = "referral_send", _("Sent a referral")
    REFERRAL_UPDATE = "referral_update", _("Updated a referral")
    REPORT_OF_CONCERN = "report_of_concern", _("Made a report of concern")
    REPORT_ACKNOWLEDGE = "report_acknowledge", _("Acknowledged a report of concern")
    SCREENING_START = "screening_start", _("Started a screening")
    VIEW_SCREENING = "view_screening", _("Viewed screening results")
    SCREENING_FOLLOW_UP = "screening_follow_up", _("Documented a screening follow-up")
    PLAN_START = "plan_start", _("Started a coordinated individual plan (SIP)")
    VIEW_PLAN = "view_plan", _("Viewed a coordinated individual plan")
    PLAN_SAVE = "plan_save", _("Saved a new version of a plan")
    PLAN_PARTICIPANT = "plan_participant", _("Changed a plan's participants")
    PLAN_MEETING = "plan_meeting", _("Scheduled or documented a plan meeting")
    PLAN_FAMILY_COPY = "plan_family_copy", _("Produced the family's copy of a plan")
    PLAN_EXPORT = "plan_export", _("Exported a plan (FHIR)")
    PLAN_END = "plan_end", _("Recorded that the family ended the plan")
    VISITS_LIST = "visits_list", _("Listed home-visit families")
    ENROLMENT_OFFER = "enrolment_offer", _("Offered a home-visit programme")
    ENROLMENT_DECIDE = "enrolment_decide", _("Recorded the family's answer to a programme")
    VIEW_VISITS = "view_visits", _("Viewed a family's home visits")
    VISIT_BOOK = "visit_book", _("Booked or rescheduled a home visit")
    VISIT_DOCUMENT = "visit_document", _("Documented a home visit")
    ENROLMENT_END = "enrolment_end", _("Ended a family's home-visit programme")
    VISIT_CANCEL = "visit_cancel", _("Cancelled a home visit's booking")


class AccessEvent(models.Model):
    seq = models.BigIntegerField(_("sequence number"), unique=True)
    occurred_at = models.DateTimeField(_("when (UTC)"))
    actor_id = models.BigIntegerField(_("user id"), null=True)
    actor_username = models.CharField(_("user name"), max_length=150)
    actor_name = models.CharField(_("name"), max_length=300)
    actor_role = models.CharField(_("role"), max_length=40, choices=Profession.choices)
    unit_id = models.BigIntegerField(_("unit id"), null=True)
    unit_name = models.CharField(_("unit"), max_length=200)
    action = models.CharField(_("action"), max_length=40, choices=Action.choices)
    purpose = models.CharField(_("purpose"), max_length=40, choices=Purpose.choices)
    # The child asked for (a copy of the id even when the request was denied or it is missing).
    child_id = models.BigIntegerField(_("child id"), null=True)
    child_identifier = models.CharField(_("child's number"), max_length=20)
    basis = models.CharField(_("legal basis"), max_length=30, choices=Basis.choices)
    basis_reference = models.CharField(_("basis reference"), max_length=100)
    allowed = models.BooleanField(_("allowed"))
    request_id = models.CharField(_("request id"), max_length=64)
    prev_hash = models.CharField(max_length=64)
    # Not unique: `seq` is, and the hash covers `seq`. A unique index here (with its LIKE twin
    # on PostgreSQL) cost two more index inserts per event and guarded nothing.
    hash = models.CharField(max_length=64)
    # No CHECK constraint: adding one would scan the whole log under an exclusive lock.
    scheme = models.SmallIntegerField(_("hash scheme"), choices=Scheme.choices)

    class Meta:
        verbose_name = _("access event")
        verbose_name_plural = _("access events")
        indexes = [
            models.Index(fields=["child_id", "seq"], name="audit_child_seq_idx"),
            models.Index(fields=["actor_id", "seq"], name="audit_actor_seq_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.actor_username}"

    def _content(self) -> dict[str, object]:
        """Every field but the id, the hash, the scheme and the link (seq, prev_hash)."""
        return {
            "occurred_at": self.occurred_at.isoformat(timespec="microseconds"),
            "actor_id": self.actor_id,
            "actor_username": self.actor_username,
            "actor_name": self.actor_name,
            "actor_role": self.actor_role,
            "unit_id": self.unit_id,
            "unit_name": self.unit_name,
            "action": self.action,
            "purpose": self.purpose,
            "child_id": self.child_id,
            "child_identifier": self.child_identifier,
            "basis": self.basis,
            "basis_reference": self.basis_reference,
            "allowed": self.allowed,
            "request_id": self.request_id,
        }

    def canonical(self) -> bytes:
        """What `Scheme.WHOLE` hashes: the content and the link in one document."""
        return _json({**self._content(), "seq": self.seq, "prev_hash": self.prev_hash})

    def body(self) -> bytes:
        """What `Scheme.LINKED` digests: the content and the scheme (the link is hashed
        beside it)."""
        return _json({**self._content(), "scheme": self.scheme})

    def body_digest(self) -> str:
        return hashlib.sha256(self.body()).hexdigest()

    def compute_hash(self) -> str:
        if self.scheme == Scheme.WHOLE:
            return hashlib.sha256(self.canonical()).hexdigest()
        return link(self.prev_hash, self.seq, self.body_digest())


class ChainHead(models.Model):
    """The last link of the chain: one row, locked while an event is appended.

    Appends are serialised through it, and it lets verification notice a chain cut short
    at the end.
    """

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)
    # The hash the last append linked from: the statement that appends on PostgreSQL sets it
    # from `hash` as it moves the head on, and so returns where its new links start.
    prev_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"head #{self.seq}"
