"""Questionnaires as versioned data files (TOML): strict parsing and loading.

A file holds one version of one questionnaire: its items, the question text and option labels
in every language of `screening.languages`, guidance for the nurse and the kiosk's own words.
`questionnaire_file_read` parses and validates a file and reports every problem at once;
`questionnaire_load` stores it. The file's SHA-256 checksum identifies its content: loading the
same file again changes nothing, and a published version is never changed by a different file.
Answers keep pointing at the version they answered (`Response.version`).
"""

from __future__ import annotations

import enum
import hashlib
import re
import string
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models.deletion import ProtectedError
from django.utils import timezone

from . import languages
from .models import Domain, Item, ItemText, Questionnaire, QuestionnaireVersion


def _label_max() -> int:
    """The label's limit, read from the field so that the check and the column agree."""
    limit = QuestionnaireVersion._meta.get_field("label").max_length
    if limit is None:  # an unlimited label would leave the file's label unchecked
        raise ImproperlyConfigured("QuestionnaireVersion.label needs a max_length")
    return limit


FORMAT = 1
# The kiosk's own words, each with the placeholders its text must keep.
UI_KEYS: dict[str, frozenset[str]] = {
    "choose_language": frozenset(),
    "enter_code": frozenset(),
    "start": frozenset(),
    "next": frozenset(),
    "back": frozenset(),
    "skip": frozenset(),
    "review": frozenset(),
    "review_intro": frozenset(),
    "submit": frozenset(),
    "change": frozenset(),
    "unanswered": frozenset(),
    "thanks_title": frozenset(),
    "thanks_body": frozenset(),
    "progress": frozenset({"n", "total"}),
    "code_invalid": frozenset(),
    "too_many_attempts": frozenset(),
    "answer_saved_note": frozenset(),
}
STATUSES = [choice.value for choice in ItemText.Status]
OPTION_CODE = re.compile(r"^[a-z][a-z0-9_]{0,29}$")  # fits Answer.option (30 characters)
QUESTIONNAIRE_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")  # fits the SlugField
LABEL_MAX = _label_max()
TOP_KEYS = {"format", "code", "name", "version", "is_example", "label", "items", "ui"}
ITEM_KEYS = {"number", "domain", "options", "positive", "guidance", "text"}
TEXT_KEYS = {"status", "question", "options"}


class QuestionnaireFileError(ValueError):
    """A file that cannot be loaded; `problems` lists every reason, each with its place."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}:\n" + "\n".join(f"  - {p}" for p in problems))


class PublishedVersionChanged(QuestionnaireFileError):
    """A file with other content claims the number of a published version."""


@dataclass(frozen=True)
class TextSpec:
    status: str
    question: str
    option_labels: dict[str, str]


@dataclass(frozen=True)
class ItemSpec:
    number: int
    domain: str
    options: list[str]
    positive: list[str]
    guidance_sv: str
    guidance_en: str
    texts: dict[str, TextSpec]


@dataclass(frozen=True)
class QuestionnaireSpec:
    code: str
    name: str
    version: int
    label: str
    is_example: bool
    items: list[ItemSpec]
    ui: dict[str, dict[str, str]]


@dataclass(frozen=True)
class QuestionnaireFile:
    source: str  # the path as stored on the version (relative to the project when inside it)
    checksum: str
    spec: QuestionnaireSpec


class Outcome(enum.Enum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    PUBLISHED = "published"  # the same file, loaded before as a draft, now published
    REPLACED = "replaced"  # an unpublished draft replaced by a changed file


@dataclass(frozen=True)
class LoadResult:
    version: QuestionnaireVersion
    outcome: Outcome

    @property
    def message(self) -> str:
        version = self.version
        name = f"{version.questionnaire.code} version {version.version}"
        state = "published" if version.published_at else "an unpublished draft"
        if self.outcome is Outcome.UNCHANGED:
            return (
                f"{name} is already loaded from this file (checksum {version.checksum[:12]}…); "
                f"nothing changed. It is {state}."
            )
        if self.outcome is Outcome.PUBLISHED:
            return f"{name} was already loaded from this file; it is now published."
        verb = "Loaded" if self.outcome is Outcome.CREATED else "Replaced the draft of"
        return f"{verb} {name}; it is {state}."


# -- parsing --------------------------------------------------------------------------------


class _Problems(list[str]):
    def keys(
        self, where: str, table: dict[str, Any], allowed: set[str], required: set[str]
    ) -> None:
        for key in sorted(set(table) - allowed):
            self.append(f"{where}: unknown key '{key}' (allowed: {', '.join(sorted(allowed))})")
        for key in sorted(required - set(table)):
            self.append(f"{where}: missing '{key}'")

    def text(self, where: str, value: object) -> str:
        if not isinstance(value, str) or not value.strip():
            self.append(f"{where}: must be a non-empty text")
            return ""
        return value

    def table(self, where: str, value: object) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.append(f"{where}: must be a table")
            return {}
        return value

    def codes(self, where: str, value: object) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.append(f"{where}: must be a list of option codes")
            return []
        for code in value:
            if not OPTION_CODE.match(code):
                self.append(
                    f"{where}: '{code}' is not a valid option code "
                    "(lower-case letters, digits and _, at most 30)"
                )
        duplicates = sorted(code for code, n in Counter(value).items() if n > 1)
        if duplicates:
            self.append(f"{where}: each option may appear once; repeated: {', '.join(duplicates)}")
        return value


def _placeholders(text: str) -> set[str] | None:
    """The {names} in `text`, or None when its braces do not pair up."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return None


def _languages(problems: _Problems, where: str, table: dict[str, Any]) -> None:
    unknown = sorted(set(table) - set(languages.REQUIRED))
    missing = [code for code in languages.REQUIRED if code not in table]
    if unknown:
        problems.append(
            f"{where}: unknown language {', '.join(unknown)} "
            f"(the languages are {', '.join(languages.REQUIRED)})"
        )
    if missing:
        problems.append(f"{where}: no text in {', '.join(missing)}")


def _item(problems: _Problems, index: int, raw: object) -> ItemSpec | None:
    where = f"item #{index + 1} in the file"
    table = problems.table(where, raw)
    if not table:
        return None
    number = table.get("number")
    if isinstance(number, int) and not isinstance(number, bool) and number >= 1:
        where = f"item {number}"
    else:
        problems.append(f"{where}: 'number' must be a whole number from 1")
        number = 0
    problems.keys(where, table, ITEM_KEYS, ITEM_KEYS)
    domain = table.get("domain")
    if domain is not None and domain not in Domain.values:
        problems.append(
            f"{where}: unknown domain '{domain}' (the domains are {', '.join(Domain.values)})"
        )
    options = problems.codes(f"{where}, options", table.get("options", []))
    if "options" in table and len(options) < 2:
        problems.append(f"{where}, options: needs at least two options")
    positive = problems.codes(f"{where}, positive", table.get("positive", []))
    stray = [code for code in positive if code not in options]
    if stray:
        problems.append(
            f"{where}, positive: {', '.join(stray)} is not among the options "
            f"({', '.join(options)}); positive answers must be options"
        )
    guidance = problems.table(f"{where}, guidance", table.get("guidance", {}))
    problems.keys(f"{where}, guidance", guidance, {"sv", "en"}, {"sv", "en"})
    texts: dict[str, TextSpec] = {}
    text_table = problems.table(f"{where}, text", table.get("text", {}))
    _languages(problems, f"{where}, text", text_table)
    for code in languages.REQUIRED:
        if code not in text_table:
            continue
        at = f"{where}, language {code}"
        entry = problems.table(at, text_table[code])
        problems.keys(at, entry, TEXT_KEYS, TEXT_KEYS)
        status = entry.get("status")
        if status is not None and status not in STATUSES:
            problems.append(f"{at}: status must be one of {', '.join(STATUSES)}, not '{status}'")
        if code == "sv" and status == ItemText.Status.DRAFT:
            problems.append(f"{at}: the Swedish text is the source and must be reviewed")
        labels = problems.table(f"{at}, options", entry.get("options", {}))
        if set(labels) != set(options):
            missing = [o for o in options if o not in labels]
            extra = sorted(set(labels) - set(options))
            detail = "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"not an option: {', '.join(extra)}" if extra else "",
                )
                if part
            )
            problems.append(f"{at}: option labels must match the options ({detail})")
        for option, label in labels.items():
            problems.text(f"{at}, option {option}", label)
        texts[code] = TextSpec(
            status=str(status),
            question=problems.text(f"{at}, question", entry.get("question")),
            option_labels={option: labels[option] for option in options if option in labels},
        )
    return ItemSpec(
        number=number,
        domain=str(domain),
        options=options,
        positive=positive,
        guidance_sv=problems.text(f"{where}, guidance sv", guidance.get("sv")),
        guidance_en=problems.text(f"{where}, guidance en", guidance.get("en")),
        texts=texts,
    )


def _ui(problems: _Problems, raw: object) -> dict[str, dict[str, str]]:
    table = problems.table("ui", raw)
    _languages(problems, "ui", table)
    ui: dict[str, dict[str, str]] = {}
    for code in languages.REQUIRED:
        if code not in table:
            continue
        where = f"ui.{code}"
        words = problems.table(where, table[code])
        unknown = sorted(set(words) - set(UI_KEYS))
        missing = [key for key in UI_KEYS if key not in words]
        if unknown:
            problems.append(f"{where}: unknown keys: {', '.join(unknown)}")
        if missing:
            problems.append(f"{where}: missing keys: {', '.join(missing)}")
        for key, expected in UI_KEYS.items():
            if key not in words:
                continue
            text = problems.text(f"{where}.{key}", words[key])
            found = _placeholders(text)
            if found is None:
                problems.append(f"{where}.{key}: braces do not pair up: {text!r}")
            elif found != expected:
                want = " ".join(f"{{{p}}}" for p in sorted(expected)) or "no placeholders"
                problems.append(f"{where}.{key}: placeholders must be exactly {want}: {text!r}")
        ui[code] = {key: words[key] for key in UI_KEYS if isinstance(words.get(key), str)}
    return ui


def questionnaire_parse(data: bytes, *, source: str = "<file>") -> QuestionnaireSpec:
    """Parse and validate a questionnaire file; QuestionnaireFileError lists every problem."""
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise QuestionnaireFileError(source, [f"not UTF-8 text: {exc}"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise QuestionnaireFileError(source, [f"not valid TOML: {exc}"]) from exc
    problems = _Problems()
    problems.keys("file", raw, TOP_KEYS, TOP_KEYS)
    if "format" in raw and raw["format"] != FORMAT:
        problems.append(f"format: this version of Samverkan reads format {FORMAT}")
    code = problems.text("code", raw.get("code"))
    if code and not QUESTIONNAIRE_CODE.match(code):
        problems.append(f"code: '{code}' must be lower-case letters, digits and -, at most 50")
    name = problems.text("name", raw.get("name"))
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problems.append("version: must be a whole number from 1")
        version = 0
    is_example = raw.get("is_example")
    if not isinstance(is_example, bool):
        problems.append("is_example: must be true or false")
    label_table = problems.table("label", raw.get("label", {}))
    problems.keys("label", label_table, {"sv", "en"}, {"sv", "en"})
    label = " / ".join(
        problems.text(f"label {code}", label_table.get(code)) for code in ("sv", "en")
    )
    if len(label) > LABEL_MAX:
        problems.append(f"label: Swedish and English together must fit in {LABEL_MAX} characters")

    raw_items = raw.get("items", [])
    if not isinstance(raw_items, list) or not raw_items:
        problems.append("items: needs at least one [[items]] table")
        raw_items = []
    items = [item for i, raw_item in enumerate(raw_items) if (item := _item(problems, i, raw_item))]
    numbers = [item.number for item in items if item.number]
    repeated = sorted(n for n, count in Counter(numbers).items() if count > 1)
    expected = set(range(1, len(raw_items) + 1))
    if repeated or set(numbers) != expected:
        missing = sorted(expected - set(numbers))
        beyond = sorted(set(numbers) - expected)
        details = [
            f"repeated {', '.join(map(str, repeated))}" if repeated else "",
            f"missing {', '.join(map(str, missing))}" if missing else "",
            f"beyond the end: {', '.join(map(str, beyond))}" if beyond else "",
        ]
        problems.append(
            f"items: numbers must run from 1 to {len(raw_items)} without gaps "
            f"({'; '.join(d for d in details if d)})"
        )
    ui = _ui(problems, raw.get("ui", {}))
    if problems:
        raise QuestionnaireFileError(source, list(problems))
    return QuestionnaireSpec(
        code=code,
        name=name,
        version=version,
        label=label,
        is_example=bool(is_example),
        items=sorted(items, key=lambda item: item.number),
        ui=ui,
    )


def _source_name(path: Path) -> str:
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path(settings.BASE_DIR).resolve()))
    except ValueError:
        return str(resolved)[-300:]


def questionnaire_file_read(path: Path) -> QuestionnaireFile:
    """Read, checksum and validate a questionnaire file (nothing is stored)."""
    source = _source_name(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise QuestionnaireFileError(source, [f"cannot read the file: {exc.strerror}"]) from exc
    return QuestionnaireFile(
        source=source,
        checksum=hashlib.sha256(data).hexdigest(),
        spec=questionnaire_parse(data, source=source),
    )


# -- loading --------------------------------------------------------------------------------


def version_publish(version: QuestionnaireVersion) -> None:
    """Publish a draft version. From now on it never changes (the model refuses saves)."""
    version.published_at = timezone.now()
    version.save(update_fields=["published_at"])


def _items_create(
    version: QuestionnaireVersion, spec: QuestionnaireSpec, on_item: Callable[[], object] | None
) -> None:
    for item_spec in spec.items:
        item = Item.objects.create(
            version=version,
            number=item_spec.number,
            domain=item_spec.domain,
            options=item_spec.options,
            positive=item_spec.positive,
            guidance_sv=item_spec.guidance_sv,
            guidance_en=item_spec.guidance_en,
        )
        ItemText.objects.bulk_create(
            ItemText(
                item=item,
                language=code,
                text=text.question,
                option_labels=text.option_labels,
                status=text.status,
            )
            for code, text in item_spec.texts.items()
        )
        if on_item is not None:
            on_item()


def questionnaire_load(
    file: QuestionnaireFile, *, publish: bool = False, on_item: Callable[[], object] | None = None
) -> LoadResult:
    """Store a read file as a questionnaire version, in one transaction.

    - A new version number: the version, its items and texts are created.
    - The same file again (same checksum): nothing changes; with `publish` a draft is published.
    - A different file for a published version: refused with PublishedVersionChanged.
    - A different file for an unpublished draft: the draft's items and texts are replaced.
    """
    spec = file.spec
    try:
        with transaction.atomic():
            questionnaire, _ = Questionnaire.objects.get_or_create(
                code=spec.code, defaults={"name": spec.name}
            )
            version = (
                QuestionnaireVersion.objects.select_for_update()
                .select_related("questionnaire")
                .filter(questionnaire=questionnaire, version=spec.version)
                .first()
            )
            if version is not None and version.checksum == file.checksum:
                if publish and version.published_at is None:
                    version_publish(version)
                    return LoadResult(version, Outcome.PUBLISHED)
                return LoadResult(version, Outcome.UNCHANGED)
            if version is not None and version.published_at is not None:
                raise PublishedVersionChanged(
                    file.source,
                    [
                        f"{spec.code} version {spec.version} is already published from another "
                        "file (its checksum differs): published versions never change; give the "
                        "changed text a new version number."
                    ],
                )
            outcome = Outcome.CREATED
            if version is None:
                version = QuestionnaireVersion(questionnaire=questionnaire, version=spec.version)
            else:
                outcome = Outcome.REPLACED
                ItemText.objects.filter(item__version=version).delete()
                version.items.all().delete()
            version.label = spec.label
            version.is_example = spec.is_example
            version.source_file = file.source
            version.checksum = file.checksum
            version.ui_texts = spec.ui
            version.save()
            _items_create(version, spec, on_item)
            if publish:
                version_publish(version)
    except ProtectedError as exc:
        raise QuestionnaireFileError(
            file.source,
            [
                f"the draft of {spec.code} version {spec.version} already has answers; "
                "give the changed text a new version number."
            ],
        ) from exc
    except IntegrityError as exc:
        raise QuestionnaireFileError(
            file.source,
            [
                f"{spec.code} version {spec.version} was stored by another load at the same "
                "time; run the load again."
            ],
        ) from exc
    return LoadResult(version, outcome)
