"""Questionnaires as versioned data: the shipped example, the loader's strictness and
idempotence, immutable published versions, the admin, and the languages a region offers."""

from __future__ import annotations

import hashlib
import io
import json
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from conftest import request_as
from screening.languages import REQUIRED
from screening.models import (
    Answer,
    Domain,
    Item,
    ItemText,
    PublishedError,
    Questionnaire,
    QuestionnaireVersion,
    RegionScreeningSettings,
)
from screening.queries import available_languages
from screening.questionnaire_files import UI_KEYS
from screening.services import (
    occasions_for,
    response_submit,
    screening_start,
    session_for_code,
    version_in_use,
)
from tests import factories

pytestmark = pytest.mark.django_db

SHIPPED = Path(__file__).resolve().parents[1] / "questionnaires" / "barnsakert-exempel-v1.toml"


def load(path: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("load_questionnaire", str(path), *args, stdout=out, verbosity=0)
    return out.getvalue()


def shipped_data() -> dict[str, Any]:
    return tomllib.loads(SHIPPED.read_text(encoding="utf-8"))


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"


def write(tmp_path: Path, data: dict[str, Any], name: str = "q.toml") -> Path:
    """A questionnaire file from `data`, every table inline (still TOML, just dense)."""
    path = tmp_path / name
    path.write_text("\n".join(f"{k} = {_value(v)}" for k, v in data.items()), encoding="utf-8")
    return path


def current() -> QuestionnaireVersion:
    return QuestionnaireVersion.objects.get(questionnaire__code="barnsakert-exempel", version=1)


def test_the_shipped_example_loads_and_publishes():
    output = load(SHIPPED, "--publish")

    version = current()
    assert "Loaded barnsakert-exempel version 1" in output and version.published_at is not None
    assert version.is_example and "EXEMPEL" in version.label and "EXAMPLE" in version.label
    assert version.checksum == hashlib.sha256(SHIPPED.read_bytes()).hexdigest()
    assert version.source_file == "screening/questionnaires/barnsakert-exempel-v1.toml"
    items = list(version.items.order_by("number"))
    assert [item.number for item in items] == list(range(1, 19))
    assert Counter(item.domain for item in items) == {domain: 3 for domain in Domain.values}
    for item in items:
        assert set(item.positive) <= set(item.options) and item.guidance_sv and item.guidance_en
        texts = {text.language: text for text in item.texts.all()}
        assert sorted(texts) == sorted(REQUIRED)
        for code, text in texts.items():
            assert text.status == ("reviewed" if code in ("sv", "en") else "draft")
            assert sorted(text.option_labels) == sorted(item.options) and text.text.strip()
    assert sorted(version.ui_texts) == sorted(REQUIRED)  # jsonb keeps no key order
    for words in version.ui_texts.values():
        assert set(words) == set(UI_KEYS) and all(text.strip() for text in words.values())
        assert "{n}" in words["progress"] and "{total}" in words["progress"]
    assert version.ui_texts["en"]["code_invalid"] == (
        "The code does not work. Ask the nurse for a new one."
    )


def test_loading_the_same_file_twice_changes_nothing_and_says_so():
    load(SHIPPED, "--publish")
    before = (QuestionnaireVersion.objects.count(), Item.objects.count(), ItemText.objects.count())
    published_at = current().published_at

    output = load(SHIPPED, "--publish")

    assert "already loaded from this file" in output and "nothing changed" in output
    after = (QuestionnaireVersion.objects.count(), Item.objects.count(), ItemText.objects.count())
    assert after == before == (1, 18, 18 * 8)
    assert current().published_at == published_at


def test_a_draft_is_published_by_loading_the_same_file_with_publish():
    load(SHIPPED)
    assert current().published_at is None

    output = load(SHIPPED, "--publish")

    assert "now published" in output and current().published_at is not None
    assert Item.objects.count() == 18


def test_a_changed_file_cannot_reuse_a_published_version_number(tmp_path):
    load(SHIPPED, "--publish")
    data = shipped_data()
    data["items"][0]["text"]["sv"]["question"] = "Ändrad fråga?"

    with pytest.raises(CommandError) as refused:
        load(write(tmp_path, data))

    assert "published versions never change; give the changed text a new version number" in str(
        refused.value
    )
    assert not ItemText.objects.filter(text="Ändrad fråga?").exists()
    assert current().checksum == hashlib.sha256(SHIPPED.read_bytes()).hexdigest()


def test_a_changed_file_replaces_an_unpublished_draft(tmp_path):
    load(SHIPPED)
    data = shipped_data()
    data["items"][0]["text"]["sv"]["question"] = "Ändrad fråga?"

    output = load(write(tmp_path, data), "--publish")

    assert "Replaced the draft" in output
    version = current()
    assert version.published_at is not None and version.items.count() == 18
    assert version.items.get(number=1).texts.get(language="sv").text == "Ändrad fråga?"


def test_a_new_version_loads_beside_the_old_and_answers_keep_the_version_they_answered(
    cast, tmp_path
):
    region = factories.region_of_unit(cast.bvc)
    load(SHIPPED, "--publish")
    v1 = current()
    child = factories.child(bvc=cast.bvc)
    mother = factories.guardian_of(child)
    _, codes = screening_start(
        request=request_as(cast.nurse),
        child=child,
        occasion=occasions_for(region)[0],
        guardians=[mother],
    )
    session = session_for_code(codes[mother.pk])
    answered = response_submit(
        session=session, language="so", answers={1: "yes"}, idempotency_key="v1"
    )
    data = shipped_data()
    data["version"] = 2
    data["items"][0]["text"]["sv"]["question"] = "En ny formulering?"

    load(write(tmp_path, data), "--publish")

    v2 = QuestionnaireVersion.objects.get(questionnaire=v1.questionnaire, version=2)
    assert version_in_use(region) == v2
    answered.refresh_from_db()
    assert answered.version == v1
    assert {a.item.version_id for a in Answer.objects.filter(response=answered)} == {v1.pk}
    assert v1.items.get(number=1).texts.get(language="sv").text.startswith("Finns det något")


def _drop_ti_from_item_5(data: dict[str, Any]) -> None:
    del data["items"][4]["text"]["ti"]


def _repeat_an_option(data: dict[str, Any]) -> None:
    data["items"][0]["options"] = ["yes", "no", "yes"]


def _positive_outside_options(data: dict[str, Any]) -> None:
    data["items"][1]["positive"] = ["maybe"]


def _unknown_domain(data: dict[str, Any]) -> None:
    data["items"][2]["domain"] = "weather"


def _gap_in_numbers(data: dict[str, Any]) -> None:
    data["items"][17]["number"] = 19


def _no_options(data: dict[str, Any]) -> None:
    data["items"][3]["options"] = []


def _missing_ui_key(data: dict[str, Any]) -> None:
    del data["ui"]["fi"]["thanks_body"]


def _lost_placeholder(data: dict[str, Any]) -> None:
    data["ui"]["uk"]["progress"] = "Питання {n}"


def _label_missing(data: dict[str, Any]) -> None:
    del data["items"][0]["text"]["ar"]["options"]["no"]


def _unknown_language(data: dict[str, Any]) -> None:
    data["items"][0]["text"]["xx"] = data["items"][0]["text"]["en"]


def _draft_swedish(data: dict[str, Any]) -> None:
    data["items"][0]["text"]["sv"]["status"] = "draft"


def _typo_in_a_key(data: dict[str, Any]) -> None:
    data["items"][0]["guidence"] = data["items"][0].pop("guidance")


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (_drop_ti_from_item_5, "item 5, text: no text in ti"),
        (_repeat_an_option, "item 1, options: each option may appear once; repeated: yes"),
        (_positive_outside_options, "item 2, positive: maybe is not among the options"),
        (_unknown_domain, "item 3: unknown domain 'weather'"),
        (_gap_in_numbers, "items: numbers must run from 1 to 18 without gaps (missing 18;"),
        (_no_options, "item 4, options: needs at least two options"),
        (_missing_ui_key, "ui.fi: missing keys: thanks_body"),
        (_lost_placeholder, "ui.uk.progress: placeholders must be exactly {n} {total}"),
        (_label_missing, "item 1, language ar: option labels must match the options (missing no)"),
        (_unknown_language, "item 1, text: unknown language xx"),
        (
            _draft_swedish,
            "item 1, language sv: the Swedish text is the source and must be reviewed",
        ),
        (_typo_in_a_key, "item 1: unknown key 'guidence'"),
    ],
    ids=lambda value: getattr(value, "__name__", "")[1:] or None,
)
def test_a_broken_file_is_refused_with_a_clear_message_and_nothing_stored(
    tmp_path, break_it, message
):
    data = shipped_data()
    break_it(data)

    with pytest.raises(CommandError) as refused:
        load(write(tmp_path, data))

    assert message in str(refused.value)
    assert not Questionnaire.objects.exists() and not Item.objects.exists()


def test_every_problem_in_a_file_is_reported_at_once(tmp_path):
    data = shipped_data()
    _unknown_domain(data)
    _missing_ui_key(data)

    with pytest.raises(CommandError) as refused:
        load(write(tmp_path, data))

    assert "unknown domain 'weather'" in str(refused.value)
    assert "ui.fi: missing keys: thanks_body" in str(refused.value)


def test_a_file_that_is_not_toml_names_the_line(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('code = "x"\nversion = \n', encoding="utf-8")

    with pytest.raises(CommandError, match=r"not valid TOML: .*line 2"):
        load(path)


def test_a_published_version_its_items_and_texts_cannot_be_saved():
    load(SHIPPED, "--publish")
    version = current()
    item = version.items.get(number=1)
    text = item.texts.get(language="sv")

    version.label = "Ändrad"
    item.guidance_sv = "Ändrad"
    text.text = "Ändrad?"
    for changed in (version, item, text):
        with pytest.raises(PublishedError):
            changed.save()
    with pytest.raises(PublishedError):
        Item.objects.create(
            version=version,
            number=19,
            domain=Domain.VIOLENCE,
            options=["yes", "no"],
            positive=["yes"],
            guidance_sv="-",
            guidance_en="-",
        )
    with pytest.raises(PublishedError):
        ItemText.objects.create(
            item=item, language="de", text="?", option_labels={}, status="draft"
        )
    version.refresh_from_db()
    assert "EXEMPEL" in version.label and item.texts.get(language="sv").text.startswith("Finns")
    assert version.items.count() == 18


def codes(languages: list) -> list[str]:
    return [language.code for language in languages]


def test_a_region_can_hide_unreviewed_translations(cast):
    region = factories.region_of_unit(cast.bvc)
    load(SHIPPED, "--publish")
    version = current()
    assert codes(available_languages(version, region)) == REQUIRED

    RegionScreeningSettings.objects.update_or_create(
        region=region, defaults={"hide_unreviewed_translations": True}
    )

    assert codes(available_languages(version, region)) == ["sv", "en"]
    other_region = factories.organisation("Region Annanstans", "region")
    assert codes(available_languages(version, other_region)) == REQUIRED


def test_a_language_missing_a_text_is_not_offered_and_swedish_always_is(cast):
    region = factories.region_of_unit(cast.bvc)
    version = factories.questionnaire(languages=("sv", "en", "ar"))
    assert codes(available_languages(version, region)) == ["sv", "en", "ar"]

    ItemText.objects.filter(item__version=version, item__number=2, language="ar").delete()
    assert codes(available_languages(version, region)) == ["sv", "en"]

    # Queryset updates bypass the save guards; only a test may do this to a published version.
    ItemText.objects.filter(item__version=version, language="sv").update(status="draft")
    RegionScreeningSettings.objects.create(region=region, hide_unreviewed_translations=True)
    assert codes(available_languages(version, region)) == ["sv", "en"]


@pytest.fixture
def administrator():
    return factories.professional("administrator", is_staff=True, is_superuser=True)


def test_the_admin_shows_a_published_version_read_only(as_user, administrator):
    load(SHIPPED, "--publish")
    version = current()
    client = as_user(administrator)
    url = reverse("admin:screening_questionnaireversion_change", args=[version.pk])

    page = client.get(url)
    refused = client.post(url, {"label": "Ändrad"})

    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert refused.status_code == 403
    assert client.get(reverse("admin:screening_questionnaireversion_add")).status_code == 403
    item = version.items.get(number=1)
    assert client.get(reverse("admin:screening_item_change", args=[item.pk])).status_code == 200


def test_the_admin_publishes_a_draft(as_user, administrator):
    load(SHIPPED)
    client = as_user(administrator)

    client.post(
        reverse("admin:screening_questionnaireversion_changelist"),
        {"action": "publish", "_selected_action": [current().pk]},
    )

    assert current().published_at is not None


def test_the_admin_edits_a_regions_occasions_and_settings(as_user, administrator, cast):
    region = factories.region_of_unit(cast.bvc)
    occasion = occasions_for(region)[0]
    client = as_user(administrator)

    client.post(
        reverse("admin:screening_occasion_change", args=[occasion.pk]),
        {
            "region": region.pk,
            "order": 1,
            "name_sv": "6 veckor",
            "name_en": "6 weeks",
            "min_age_days": 35,
            "max_age_days": 56,
        },
    )

    occasion.refresh_from_db()
    assert (occasion.name_en, occasion.min_age_days) == ("6 weeks", 35)
    page = client.get(reverse("admin:screening_regionscreeningsettings_add"))
    assert page.status_code == 200
