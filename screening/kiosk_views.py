"""The tablet kiosk: what a guardian sees, reachable only with a valid one-time code.

Everything the kiosk knows between requests sits in the Django session under one key
(`KIOSK`): the kiosk session's id, the chosen language, the answers so far and the idempotency
key of the review last shown. Nothing that identifies the child or the family is shown.

Entering a code flushes the whole Django session (and logs out anyone logged in), and so does
submitting: neither a nurse's login nor another guardian's answers survive on the shared
tablet. After submission the answers are in the database only, read by health care through
`screening.queries`; the kiosk never shows them again (architecture invariant 7).

The kiosk never answers 404: Django's error pages carry the staff navigation. An unusable
state sends the guardian back to the code entry instead.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from directory.models import Organisation, Unit

from .forms import KioskCodeForm
from .languages import BY_CODE, direction
from .models import (
    Item,
    ItemText,
    KioskSession,
    QuestionnaireVersion,
    Response,
)
from .queries import available_languages
from .services import (
    ScreeningError,
    SubmissionConflict,
    SubmissionInFlight,
    TooManyAttempts,
    answers_submit,
    kiosk_session_open,
)

KIOSK = "kiosk"  # the one session key of a guardian's turn

# The kiosk's words. A questionnaire version carries its own, per language, in
# `QuestionnaireVersion.ui_texts[language][key]` (the keys of
# `screening.questionnaire_files.UI_KEYS`); these are the fallback (Swedish for Swedish, else
# English). "progress" has the placeholders {n} and {total}. The last three are not in the
# questionnaire files (yet): they are rare, and always come from here.
TEXTS: dict[str, Promise] = {
    "enter_code": _("Enter the code you got from the nurse"),
    "start": _("Start"),
    "code_invalid": _("The code does not work. Ask the nurse for a new one."),
    "too_many_attempts": _("Too many tries. Ask the nurse for help."),
    "choose_language": _("Choose your language"),
    "progress": _("Question {n} of {total}"),
    "next": _("Next"),
    "skip": _("Skip this question"),
    "back": _("Back"),
    "review": _("Look at your answers"),
    "review_intro": _("Here are your answers. You can change an answer before you send them."),
    "unanswered": _("Not answered"),
    "change": _("Change"),
    "submit": _("Send my answers"),
    "thanks_title": _("Thank you"),
    "thanks_body": _("Your answers have been sent. Please give the tablet back to the nurse."),
    "answer_saved_note": _(
        "Your answers are saved. Only the staff at the child health centre (BVC) can see "
        "them, not other people in your family."
    ),
    "invalid_answer": _("Please choose one of the answers, or skip the question."),
    "submit_conflict": _("Your answers could not be sent. Please ask the nurse for help."),
    "submit_in_flight": _("Your answers are already being sent. Please wait a moment."),
}


class Texts:
    """The kiosk's words in one language: the version's own where it has them, else the
    interface's translation (Swedish for Swedish, English for every other language)."""

    def __init__(self, version: QuestionnaireVersion | None, language: str) -> None:
        own = (version.ui_texts if version is not None else None) or {}
        chosen = own.get(language) if isinstance(own, dict) else None
        self._own = chosen if isinstance(chosen, dict) else {}
        self._fallback = language if language in dict(settings.LANGUAGES) else "en"

    def __getitem__(self, key: str) -> str:
        text = self._own.get(key)
        if isinstance(text, str) and text.strip():
            return text
        with translation.override(self._fallback):
            return str(TEXTS[key])


@dataclass
class Turn:
    """One guardian's turn at the tablet, as kept in the Django session."""

    session: KioskSession
    language: str | None = None
    answers: dict[str, str] = field(default_factory=dict)  # item number (text) -> option code
    key: str | None = None  # idempotency key of the review page last shown

    @property
    def version(self) -> QuestionnaireVersion:
        return self.session.screening.version

    def save(self, request: HttpRequest) -> None:
        request.session[KIOSK] = {
            "session": self.session.pk,
            "language": self.language,
            "answers": self.answers,
            "key": self.key,
            "version": self.session.screening.version_id,
        }


def _turn(request: HttpRequest) -> Turn | None:
    """The guardian's turn, if the session still holds one whose code is open (not submitted,
    cancelled or expired); otherwise nothing, and the kiosk data is dropped."""
    state = request.session.get(KIOSK)
    if not isinstance(state, dict):
        return None
    session_id = state.get("session")
    # `Turn.save` stores an int id (JSON keeps it so); without one there is no turn.
    session = (
        KioskSession.objects.select_related("screening__version")
        .filter(
            pk=session_id,
            submitted_at__isnull=True,
            cancelled_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
        if isinstance(session_id, int)
        else None
    )
    if session is None:
        request.session.pop(KIOSK, None)
        return None
    answers = state.get("answers")
    return Turn(
        session=session,
        language=state.get("language"),
        answers=answers if isinstance(answers, dict) else {},
        key=state.get("key"),
    )


def kiosk_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A kiosk page of a guardian's turn: no login, never cached, and only with an open turn
    (otherwise back to the code entry). The view gets the turn after the request."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        turn = _turn(request)
        if turn is None:
            return redirect("kiosk:enter_code")
        return view(request, turn, *args, **kwargs)

    return login_not_required(never_cache(wrapper))


def _render(
    request: HttpRequest,
    template: str,
    context: dict[str, object],
    *,
    language: str = "sv",
    status: int = 200,
) -> HttpResponse:
    response = render(
        request,
        template,
        {"lang": language, "dir": direction(language), **context},
        status=status,
    )
    response["Content-Language"] = language
    return response


def _newest_version() -> QuestionnaireVersion | None:
    return (
        QuestionnaireVersion.objects.filter(published_at__isnull=False)
        .order_by("-published_at")
        .first()
    )


def _code_page(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    """The code entry, in Swedish with English beside it (no language is chosen yet). Its
    messages do not depend on the code typed, so a guess learns nothing."""
    version = _newest_version()
    return _render(
        request,
        "kiosk/enter_code.html",
        {"sv": Texts(version, "sv"), "en": Texts(version, "en"), "error": error},
        status=status,
    )


def _client_ip(request: HttpRequest) -> str:
    # The same address the login lock-out uses (django-axes, honouring PROXY_COUNT).
    return get_client_ip_address(request) or request.META.get("REMOTE_ADDR") or "0.0.0.0"  # noqa: S104


@login_not_required
@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def enter_code(request: HttpRequest) -> HttpResponse:
    """Code entry. Expired, used, cancelled and unknown codes get the same calm message;
    too many failures from one address within the window get HTTP 429."""
    if request.method != "POST":
        return _code_page(request)
    form = KioskCodeForm(request.POST)
    if not form.is_valid():
        return _code_page(request, error="code_invalid")
    try:
        session = kiosk_session_open(code=form.cleaned_data["code"], client_ip=_client_ip(request))
    except TooManyAttempts:
        return _code_page(request, error="too_many_attempts", status=429)
    if session is None:
        return _code_page(request, error="code_invalid")
    # A fresh session: nothing of a nurse's login or an earlier guardian's turn survives.
    logout(request)
    Turn(session=session).save(request)
    return redirect("kiosk:language")


def _region(unit: Unit) -> Organisation | None:
    organisation = unit.organisation
    return organisation if organisation.kind == Organisation.Kind.REGION else organisation.region


@require_http_methods(["GET", "POST"])
@kiosk_page
def language(request: HttpRequest, turn: Turn) -> HttpResponse:
    """The language picker: each language named in itself."""
    unit = Unit.objects.select_related("organisation__region").get(
        pk=turn.session.screening.unit_id
    )
    languages = available_languages(turn.version, _region(unit))
    if request.method == "POST":
        chosen = request.POST.get("language", "")
        if chosen in {language.code for language in languages}:
            if chosen != turn.language:
                turn.key = None
            turn.language = chosen
            turn.save(request)
            return redirect("kiosk:question", n=1)
    return _render(
        request,
        "kiosk/language.html",
        {
            "sv": Texts(turn.version, "sv"),
            "en": Texts(turn.version, "en"),
            "languages": languages,
        },
    )


def _progress(texts: Texts, n: int, total: int) -> SafeString:
    # The numbers are isolated so that a right-to-left sentence keeps them in place.
    escaped = str(conditional_escape(texts["progress"]))
    html = escaped.replace("{n}", f"<bdi>{n}</bdi>").replace("{total}", f"<bdi>{total}</bdi>")
    return mark_safe(html)  # noqa: S308 -- escaped above; only the numbers are added


@require_http_methods(["GET", "POST"])
@kiosk_page
def question(request: HttpRequest, turn: Turn, n: int) -> HttpResponse:
    """One question per screen: choose an answer, go on, skip it or go back."""
    if turn.language is None:
        return redirect("kiosk:language")
    items: list[Item] = list(turn.version.items.order_by("number"))
    if n < 1:
        return redirect("kiosk:question", n=1)
    if n > len(items):
        return redirect("kiosk:review")
    item = items[n - 1]
    text = ItemText.objects.filter(item=item, language=turn.language).first()
    if text is None:
        return redirect("kiosk:language")
    texts = Texts(turn.version, turn.language)
    number = str(item.number)
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "next")
        option = request.POST.get("option", "")
        if option and option not in item.options:
            error = "invalid_answer"
        else:
            before = turn.answers.get(number)
            if option and action != "skip":
                turn.answers[number] = option
            else:
                turn.answers.pop(number, None)
            if turn.answers.get(number) != before:
                turn.key = None  # other answers: the next review gets a new idempotency key
            turn.save(request)
            if action == "back":
                if n == 1:
                    return redirect("kiosk:language")
                return redirect("kiosk:question", n=n - 1)
            if n == len(items):
                return redirect("kiosk:review")
            return redirect("kiosk:question", n=n + 1)
    labels = text.option_labels if isinstance(text.option_labels, dict) else {}
    return _render(
        request,
        "kiosk/question.html",
        {
            "t": texts,
            "n": n,
            "total": len(items),
            "progress": _progress(texts, n, len(items)),
            "title": texts["progress"].replace("{n}", str(n)).replace("{total}", str(len(items))),
            "question": text.text,
            "options": [(code, labels.get(code, code)) for code in item.options],
            "chosen": turn.answers.get(number, ""),
            "error": error,
        },
        language=turn.language,
        status=400 if error else 200,
    )


@require_GET
@kiosk_page
def review(request: HttpRequest, turn: Turn) -> HttpResponse:
    """Every answer, the unanswered ones marked, each with a link to change it."""
    if turn.language is None:
        return redirect("kiosk:language")
    texts_by_item = {
        text.item_id: text
        for text in ItemText.objects.filter(item__version=turn.version, language=turn.language)
    }
    rows = []
    for n, item in enumerate(turn.version.items.order_by("number"), start=1):
        text = texts_by_item.get(item.pk)
        if text is None:
            return redirect("kiosk:language")
        chosen = turn.answers.get(str(item.number), "")
        labels = text.option_labels if isinstance(text.option_labels, dict) else {}
        rows.append({"n": n, "question": text.text, "answer": labels.get(chosen, chosen)})
    if turn.key is None:
        # One key per set of answers: a double tap or a retry of this page's submit is
        # recognised and stored once.
        turn.key = secrets.token_urlsafe(32)
        turn.save(request)
    return _render(
        request,
        "kiosk/review.html",
        {"t": Texts(turn.version, turn.language), "rows": rows, "key": turn.key},
        language=turn.language,
    )


def _thanks(language: str | None, version_id: int | None) -> HttpResponse:
    """To the thank-you, in the guardian's language: all it needs is in its address."""
    query = urlencode({"sprak": language or "sv", "version": version_id or ""})
    return redirect(f"{reverse('kiosk:thanks')}?{query}")


@login_not_required
@never_cache
@require_POST
def submit(request: HttpRequest) -> HttpResponse:
    """Store the answers once. A retry after a submit that went through (its reply lost, or
    a double tap) finds the stored response by its key and gets the thank-you again.

    The turn is taken from the Django session as it stands, without reading its kiosk
    session: the store checks, in the statement that spends it, that the code is still open
    (every guardian makes this request, so it makes as few round trips as it can)."""
    posted = request.POST.get("key", "")[:64]
    state = request.session.get(KIOSK)
    if not isinstance(state, dict) or not isinstance(state.get("session"), int):
        stored = Response.objects.filter(idempotency_key=posted).first() if posted else None
        if stored is not None:
            return _thanks(stored.language, stored.version_id)
        return _code_page(request, error="code_invalid")
    language, answers = state.get("language"), state.get("answers")
    if language is None or not posted or posted != state.get("key"):
        return redirect("kiosk:review")
    version_id = state.get("version") or _version_of(state["session"])
    if version_id is None:  # its kiosk session is gone
        request.session.flush()
        return _code_page(request, error="code_invalid")
    try:
        answers_submit(
            session_id=state["session"],
            version_id=version_id,
            language=language,
            answers={int(n): option for n, option in (answers or {}).items()},
            idempotency_key=posted,
            turn_key=request.session.session_key,
        )
    except SubmissionInFlight:
        # A double tap while the first is still being stored: the turn stays, so sending
        # again after a moment finds the stored answers and says thank you.
        return _submit_message(request, version_id, language, "submit_in_flight", 409)
    except SubmissionConflict:
        request.session.flush()
        return _submit_message(request, version_id, language, "submit_conflict", 422)
    except ScreeningError:
        request.session.flush()
        return _code_page(request, error="code_invalid")
    # The turn's Django session went with the stored answers: what this request holds of it
    # is emptied too, so the cookie goes and nothing is written back.
    request.session.forget()  # type: ignore[attr-defined]  # samverkan.sessions
    return _thanks(language, version_id)


def _version_of(session_id: int) -> int | None:
    """The questionnaire version of a turn begun before turns kept it (`Turn.save`)."""
    return (
        KioskSession.objects.filter(pk=session_id)
        .values_list("screening__version_id", flat=True)
        .first()
    )


def _submit_message(
    request: HttpRequest, version_id: int, language: str, message: str, status: int
) -> HttpResponse:
    """A submit's "being sent" or "could not be sent", in the questionnaire's own words."""
    version = QuestionnaireVersion.objects.filter(pk=version_id).first()
    texts = Texts(version, language)
    return _render(
        request,
        "kiosk/message.html",
        {"t": texts, "message": texts[message]},
        language=language,
        status=status,
    )


@login_not_required
@never_cache
@require_GET
def thanks(request: HttpRequest) -> HttpResponse:
    """A neutral thank-you: never any answer."""
    language = request.GET.get("sprak", "")
    language = language if language in BY_CODE else "sv"
    chosen = request.GET.get("version", "")
    version = (
        QuestionnaireVersion.objects.filter(pk=chosen, published_at__isnull=False).first()
        if chosen.isdigit()
        else None
    ) or _newest_version()
    return _render(
        request,
        "kiosk/thanks.html",
        {"t": Texts(version, language)},
        language=language,
    )
