"""The nurse starts a screening and hands over the tablet; each guardian answers alone at the
kiosk, and nothing of one guardian's answers is ever shown again after submission."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent
from audit.models import Action as AuditAction
from conftest import request_as
from screening.kiosk_views import KIOSK, Texts
from screening.models import Answer, KioskAttempt, KioskSession, Response, Screening
from screening.services import (
    KIOSK_ATTEMPT_LIMIT,
    occasions_for,
    response_submit,
    screening_start,
    session_for_code,
)
from tests import factories

pytestmark = pytest.mark.django_db

CODE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}\b")
ENTER = "/surfplatta/"


@pytest.fixture
def family(cast):
    region = factories.region_of_unit(cast.bvc)
    child = factories.child(bvc=cast.bvc, birth=timezone.localdate() - datetime.timedelta(days=120))
    mother, father = factories.guardian_of(child), factories.guardian_of(child)
    version = factories.questionnaire(items=6)
    return child, mother, father, occasions_for(region), version


def codes_for(cast, family) -> dict[int, str]:
    child, mother, father, occasions, _ = family
    _, codes = screening_start(
        request=request_as(cast.nurse),
        child=child,
        occasion=occasions[1],
        guardians=[mother, father],
    )
    return codes


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


class Tablet:
    """A shared tablet: one browser, every page it was shown kept for the checks."""

    def __init__(self, client: Client | None = None) -> None:
        self.client = client or Client()
        self.pages: list[str] = []

    def get(self, url: str, **kwargs):
        response = self.client.get(url, **kwargs)
        self.pages.append(response.content.decode())
        return response

    def post(self, url: str, data: dict, **kwargs):
        response = self.client.post(url, data, **kwargs)
        self.pages.append(response.content.decode())
        return response

    def begin(self, code: str, language: str = "sv") -> None:
        self.get(ENTER)
        response = self.post(ENTER, {"code": code})
        assert response.status_code == 302 and response.url == reverse("kiosk:language")
        assert self.get(reverse("kiosk:language")).status_code == 200
        response = self.post(reverse("kiosk:language"), {"language": language})
        assert response.status_code == 302 and response.url == reverse("kiosk:question", args=[1])

    def answer(self, n: int, option: str = "", action: str = "next"):
        page = self.get(reverse("kiosk:question", args=[n]))
        assert page.status_code == 200
        data = {"action": action, **({"option": option} if option else {})}
        return self.post(reverse("kiosk:question", args=[n]), data)

    def review(self) -> str:
        response = self.get(reverse("kiosk:review"))
        assert response.status_code == 200
        return response.content.decode()

    def submit(self, html: str):
        found = re.search(r'name="key" value="([^"]+)"', html)
        assert found is not None, "the review page holds no key"
        return self.post(reverse("kiosk:submit"), {"key": found.group(1)})


# --- Starting a screening (the nurse) -------------------------------------------------------


def test_the_childs_own_bvc_nurse_starts_a_screening_and_sees_each_code_once(cast, family, as_user):
    child, mother, father, occasions, _ = family
    client = as_user(cast.nurse)
    url = reverse("screening:start", args=[child.pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    # The child is four months old: that occasion is chosen by default.
    four_months = occasions[1]
    assert re.search(rf'value="{four_months.pk}"[^>]*checked', html)
    assert mother.full_name in html and father.full_name in html

    response = client.post(url, {"occasion": four_months.pk, "guardians": [mother.pk, father.pk]})
    assert response.status_code == 200
    html = response.content.decode()
    codes = CODE.findall(html)
    assert len(set(codes)) == 2
    assert html.count("<svg") == 2 and "<script" not in html and "style=" not in html
    assert reverse("screening:kiosk_handover") in html
    sessions = {session_for_code(code).guardian_id for code in codes}
    assert sessions == {mother.pk, father.pk}
    screening = Screening.objects.get()
    assert screening.occasion == four_months and screening.unit == cast.bvc
    # Never shown again: the child page and the start page do not have them.
    assert not set(CODE.findall(client.get(url).content.decode())) & set(codes)
    assert AccessEvent.objects.filter(
        action=AuditAction.SCREENING_START, child_id=child.pk, allowed=True
    ).exists()


def test_the_start_form_needs_a_guardian_present(cast, family, as_user):
    child, _, _, occasions, _ = family
    response = as_user(cast.nurse).post(
        reverse("screening:start", args=[child.pk]), {"occasion": occasions[1].pk}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["guardians"]
    assert not Screening.objects.exists()


@pytest.mark.parametrize("who", ["outsider", "family_therapist", "special_educator"])
def test_others_get_a_404_like_a_missing_child_and_the_attempt_is_logged(
    cast, family, as_user, who
):
    child, mother, _, occasions, _ = family
    user = getattr(cast, who)
    client = as_user(user)
    url = reverse("screening:start", args=[child.pk])
    missing = client.get(reverse("screening:start", args=[child.pk + 999]))
    assert client.get(url).status_code == 404 and missing.status_code == 404
    response = client.post(url, {"occasion": occasions[1].pk, "guardians": [mother.pk]})
    assert response.status_code == 404
    assert not Screening.objects.exists()
    assert AccessEvent.objects.filter(child_id=child.pk, actor_id=user.pk, allowed=False).exists()


def test_the_child_page_link_is_shown_to_those_who_may_screen(family):
    child = family[0]
    link = reverse("screening:start", args=[child.pk])
    assert link in render_to_string(
        "screening/_child_links.html", {"child": child, "may_screen": True}
    )
    assert link not in render_to_string("screening/_child_links.html", {"child": child})


def test_handing_over_logs_the_nurse_out(cast, family, as_user):
    client = as_user(cast.nurse)
    response = client.post(reverse("screening:kiosk_handover"))
    assert response.status_code == 302 and response.url == reverse("kiosk:enter_code")
    assert "_auth_user_id" not in client.session
    back = client.get(reverse("families:child_list"))
    assert back.status_code == 302 and back.url.startswith(reverse("accounts:login"))
    assert client.get(ENTER).status_code == 200


def test_entering_a_code_ends_a_nurses_login_on_the_tablet(cast, family, as_user):
    codes = codes_for(cast, family)
    tablet = Tablet(as_user(cast.nurse))
    tablet.begin(codes[family[1].pk])
    assert "_auth_user_id" not in tablet.client.session
    assert tablet.get(reverse("families:child_list")).status_code == 302


# --- The kiosk (the guardian) ---------------------------------------------------------------


@pytest.mark.parametrize(("language", "direction"), [("sv", "ltr"), ("ar", "rtl")])
def test_a_guardian_answers_one_question_per_screen_and_sends_once(
    cast, family, language, direction
):
    _, mother, _, _, version = family
    tablet = Tablet()
    tablet.begin(codes_for(cast, family)[mother.pk], language)
    texts = Texts(version, language)

    first = tablet.get(reverse("kiosk:question", args=[1])).content.decode()
    assert f'<html lang="{language}" dir="{direction}">' in first
    assert f"[{language}] Fråga 1?" in first and f"[{language}] ja" in first
    assert "<bdi>1</bdi>" in first and "<bdi>6</bdi>" in first
    assert re.search(r'<progress max="6" value="1" aria-labelledby="progress-label"', first)
    assert "<fieldset" in first and "<legend>" in first
    assert first.count('type="radio"') == 2

    for n, option in [(1, "yes"), (2, "no"), (3, "yes"), (5, "no"), (6, "yes")]:
        if n == 5:
            tablet.answer(4, action="skip")
        response = tablet.answer(n, option)
        assert response.status_code == 302
    assert response.url == reverse("kiosk:review")

    review = tablet.review()
    assert f'<html lang="{language}" dir="{direction}">' in review
    assert review.count(texts["unanswered"]) == 1
    assert review.count(f"[{language}] ja") == 3 and review.count(f"[{language}] nej") == 2
    for n in range(1, 7):
        assert f'href="{reverse("kiosk:question", args=[n])}"' in review

    done = tablet.submit(review)
    assert done.status_code == 302 and done.url.startswith(reverse("kiosk:thanks") + "?")
    thanks = tablet.get(done.url).content.decode()  # in the guardian's language
    assert texts["thanks_title"] in thanks and f"[{language}]" not in thanks
    assert KIOSK not in tablet.client.session

    stored = Response.objects.get()
    assert stored.guardian == mother and stored.language == language
    answers = {a.item.number: a.option for a in Answer.objects.filter(response=stored)}
    assert answers == {1: "yes", 2: "no", 3: "yes", 4: "", 5: "no", 6: "yes"}


def test_going_back_keeps_the_answer_and_changing_it_from_the_review(cast, family):
    _, mother, _, _, _ = family
    tablet = Tablet()
    tablet.begin(codes_for(cast, family)[mother.pk])
    tablet.answer(1, "yes")
    response = tablet.answer(2, "no", action="back")
    assert response.url == reverse("kiosk:question", args=[1])
    page = tablet.get(reverse("kiosk:question", args=[2])).content.decode()
    assert re.search(r'value="no" checked', page)
    tablet.post(reverse("kiosk:question", args=[1]), {"action": "skip"})
    review = tablet.review()
    assert review.count("[sv] ja") == 0 and review.count("[sv] nej") == 1


def test_a_double_tapped_or_retried_submit_stores_one_response(cast, family):
    _, mother, _, _, _ = family
    tablet = Tablet()
    tablet.begin(codes_for(cast, family)[mother.pk])
    tablet.answer(1, "yes")
    review = tablet.review()
    again = tablet.review()  # a reload keeps the key
    key = re.search(r'name="key" value="([^"]+)"', review).group(1)
    assert key in again
    first = tablet.submit(review)
    second = tablet.submit(review)
    assert first.url == second.url
    assert first.url.startswith(reverse("kiosk:thanks") + "?")
    assert Response.objects.count() == 1
    assert Response.objects.get().idempotency_key == key


def test_a_changed_answer_gets_a_new_idempotency_key(cast, family):
    _, mother, _, _, _ = family
    tablet = Tablet()
    tablet.begin(codes_for(cast, family)[mother.pk])
    tablet.answer(1, "yes")
    old = tablet.review()
    tablet.answer(1, "no")
    new = tablet.review()
    key = re.compile(r'name="key" value="([^"]+)"')
    assert key.search(old).group(1) != key.search(new).group(1)
    # The stale page's submit goes back to the review instead of storing the old answers.
    stale = tablet.submit(old)
    assert stale.status_code == 302 and stale.url == reverse("kiosk:review")
    assert not Response.objects.exists()
    tablet.submit(new)
    assert Answer.objects.get(item__number=1).option == "no"


def test_a_conflicting_submit_gets_a_calm_422(cast, family):
    _, mother, father, _, _ = family
    codes = codes_for(cast, family)
    other = response_submit(
        session=session_for_code(codes[father.pk]),
        language="sv",
        answers={1: "no"},
        idempotency_key="taken",
    )
    tablet = Tablet()
    tablet.begin(codes[mother.pk])
    tablet.answer(1, "yes")
    tablet.review()
    session = tablet.client.session
    state = session[KIOSK]
    state["key"] = other.idempotency_key  # as if the key had been used elsewhere
    session[KIOSK] = state
    session.save()
    response = tablet.post(reverse("kiosk:submit"), {"key": "taken"})
    assert response.status_code == 422
    assert Texts(None, "sv")["submit_conflict"] in response.content.decode()
    assert Response.objects.count() == 1 and "[sv] ja" not in response.content.decode()


def test_a_used_code_gets_the_same_message_as_a_wrong_one(cast, family):
    _, mother, _, _, _ = family
    code = codes_for(cast, family)[mother.pk]
    tablet = Tablet()
    tablet.begin(code)
    tablet.submit(tablet.review())
    used = tablet.post(ENTER, {"code": code})
    wrong = Client().post(ENTER, {"code": "ZZZZ-ZZZZ"})
    assert used.status_code == wrong.status_code == 200
    assert Texts(None, "sv")["code_invalid"] in used.content.decode()
    assert without_csrf(used.content.decode()) == without_csrf(wrong.content.decode())


def test_an_expired_code_is_refused_with_the_same_message(cast, family):
    _, mother, _, _, _ = family
    code = codes_for(cast, family)[mother.pk]
    wrong = without_csrf(Client().post(ENTER, {"code": "ZZZZ-ZZZZ"}).content.decode())
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=31)):
        expired = Client().post(ENTER, {"code": code})
    assert expired.status_code == 200
    assert without_csrf(expired.content.decode()) == wrong


def test_a_turn_that_expires_on_the_way_goes_back_to_the_code_entry(cast, family):
    _, mother, _, _, _ = family
    tablet = Tablet()
    tablet.begin(codes_for(cast, family)[mother.pk])
    tablet.answer(1, "yes")
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=31)):
        response = tablet.get(reverse("kiosk:question", args=[2]))
    assert response.status_code == 302 and response.url == reverse("kiosk:enter_code")


def test_guessing_is_throttled_per_address_in_the_database(cast, family):
    _, mother, _, _, _ = family
    code = codes_for(cast, family)[mother.pk]
    guesser = Client(REMOTE_ADDR="10.0.0.7")
    for n in range(KIOSK_ATTEMPT_LIMIT):
        assert guesser.post(ENTER, {"code": f"AAAA-AA{n:02d}"}).status_code == 200
    assert KioskAttempt.objects.filter(client_ip="10.0.0.7").count() == KIOSK_ATTEMPT_LIMIT
    blocked = guesser.post(ENTER, {"code": code})  # even a right code is not looked at
    assert blocked.status_code == 429
    assert Texts(None, "sv")["too_many_attempts"] in blocked.content.decode()
    assert KioskSession.objects.get(guardian=mother).opened_at is None
    # Another tablet is not affected; after the window the address may try again.
    assert Client(REMOTE_ADDR="10.0.0.8").post(ENTER, {"code": code}).status_code == 302
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=16)):
        assert guesser.post(ENTER, {"code": "AAAA-AAAA"}).status_code == 200
        assert KioskAttempt.objects.count() == 1  # old attempts are deleted


def test_after_submission_nothing_shows_the_answers_again(cast, family):
    _, mother, _, _, _ = family
    tablet = Tablet()
    tablet.begin(codes_for(cast, family)[mother.pk])
    for n in range(1, 7):
        tablet.answer(n, "yes")
    tablet.submit(tablet.review())
    after = []
    for url in [
        reverse("kiosk:review"),
        reverse("kiosk:question", args=[1]),
        reverse("kiosk:language"),
    ]:
        response = tablet.get(url)
        assert response.status_code == 302 and response.url == reverse("kiosk:enter_code")
        after.append(tablet.get(response.url).content.decode())
    after.append(tablet.get(reverse("kiosk:thanks")).content.decode())
    for html in after:
        assert "[sv] ja" not in html and "[sv] Fråga" not in html


def test_the_second_guardian_never_sees_the_first_guardians_answers(cast, family):
    _, mother, father, _, _ = family
    codes = codes_for(cast, family)
    tablet = Tablet()
    tablet.begin(codes[mother.pk], "ar")
    for n in range(1, 7):
        tablet.answer(n, "yes")
    tablet.submit(tablet.review())

    tablet.pages.clear()
    tablet.begin(codes[father.pk], "sv")
    page = tablet.get(reverse("kiosk:question", args=[1])).content.decode()
    assert " checked" not in page
    review = tablet.review()
    assert review.count(Texts(None, "sv")["unanswered"]) == 6
    for n in range(1, 7):
        tablet.answer(n, "no")
    tablet.submit(tablet.review())
    assert all("[ar]" not in html for html in tablet.pages)
    assert Response.objects.count() == 2


def test_a_new_code_on_the_tablet_drops_an_unfinished_turn(cast, family):
    _, mother, father, _, _ = family
    codes = codes_for(cast, family)
    tablet = Tablet()
    tablet.begin(codes[mother.pk], "ar")
    tablet.answer(1, "yes")
    tablet.answer(2, "no")
    tablet.pages.clear()
    tablet.begin(codes[father.pk], "sv")
    assert " checked" not in tablet.get(reverse("kiosk:question", args=[2])).content.decode()
    assert tablet.review().count(Texts(None, "sv")["unanswered"]) == 6


def test_kiosk_pages_link_only_to_the_kiosk_and_have_no_inline_code(cast, family):
    _, mother, _, _, _ = family
    tablet = Tablet()
    tablet.post(ENTER, {"code": "ZZZZ-ZZZZ"})
    tablet.begin(codes_for(cast, family)[mother.pk], "ar")
    for n in range(1, 7):
        tablet.answer(n, "yes" if n % 2 else "", action="next" if n % 2 else "skip")
    tablet.submit(tablet.review())
    tablet.get(reverse("kiosk:thanks"))
    assert len(tablet.pages) > 15
    for html in tablet.pages:
        if not html:
            continue  # redirects
        for href in re.findall(r"<a\b[^>]*\bhref=\"([^\"]*)\"", html):
            assert href.startswith(ENTER), href
        assert "<script" not in html and "<style" not in html and "style=" not in html
        assert "onclick" not in html.lower()


def test_kiosk_pages_are_never_cached(cast, family):
    _, mother, _, _, _ = family
    tablet = Tablet()
    tablet.begin(codes_for(cast, family)[mother.pk])
    for url in [ENTER, reverse("kiosk:question", args=[1]), reverse("kiosk:review")]:
        assert "no-store" in tablet.get(url)["Cache-Control"]


def test_the_kiosk_offers_only_languages_with_every_question_translated(cast, family):
    _, mother, _, _, version = family
    from screening.models import ItemText

    ItemText.objects.filter(item__version=version, item__number=3, language="en").delete()
    tablet = Tablet()
    tablet.begin(codes_for(cast, family)[mother.pk])
    page = tablet.get(reverse("kiosk:language")).content.decode()
    assert 'lang="ar" dir="rtl"' in page and "العربية" in page and "Svenska" in page
    assert 'value="en"' not in page
    assert tablet.post(reverse("kiosk:language"), {"language": "en"}).status_code == 200


def test_the_versions_own_kiosk_texts_are_used(cast, family):
    _, mother, _, _, version = family
    from screening.models import QuestionnaireVersion

    QuestionnaireVersion.objects.filter(pk=version.pk).update(
        ui_texts={"ar": {"next": "التالي", "progress": "السؤال {n} من {total}"}}
    )
    tablet = Tablet()
    tablet.begin(codes_for(cast, family)[mother.pk], "ar")
    page = tablet.get(reverse("kiosk:question", args=[1])).content.decode()
    assert "التالي" in page and "السؤال <bdi>1</bdi> من <bdi>6</bdi>" in page


def test_the_thank_you_takes_only_a_known_language_and_a_published_version(cast, family):
    tablet = Tablet()
    for query in ({"sprak": "xx"}, {"sprak": "<b>", "version": "abc"}, {"version": "999999"}):
        page = tablet.get(reverse("kiosk:thanks"), data=query)
        assert page.status_code == 200
        assert '<html lang="sv"' in page.content.decode()
    arabic = tablet.get(reverse("kiosk:thanks"), data={"sprak": "ar"}).content.decode()
    assert '<html lang="ar" dir="rtl">' in arabic
