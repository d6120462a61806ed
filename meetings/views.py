"""Views of the meetings app (thin: parse, ask the policy, call a service, render).

Every meeting, item and action is read through the user's teams: a non-member gets a 404,
the same as for a missing meeting. A refused act comes back as an error on its form, on the
re-rendered meeting page, with what the user typed still in it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cases.models import Action
from cases.services import CaseError, action_complete
from consent import policy

from . import queries, services
from .forms import (
    ActionForm,
    AmendForm,
    AttendanceForm,
    Members,
    MinutesForm,
    NominateForm,
    RefusalForm,
)
from .models import AgendaItem, Attendance, Meeting
from .services import AMENDABLE, MeetingError, StaleEdit

PAST_MEETINGS_PER_PAGE = 12
UPCOMING_SHOWN = 12


@require_http_methods(["GET"])
def team_list(request: HttpRequest) -> HttpResponse:
    """The user's teams, each with its next meetings."""
    teams = queries.teams_for_list(request.user)  # type: ignore[arg-type]
    return render(request, "meetings/team_list.html", {"teams": teams})


@require_http_methods(["GET"])
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(
        policy.teams_of(request.user).select_related("coordinator"),
        pk=pk,
    )
    meetings = team.meetings.annotate(item_count=Count("items"))
    now = timezone.now()
    past = Paginator(
        meetings.filter(ends_at__lt=now).order_by("-starts_at"), PAST_MEETINGS_PER_PAGE
    ).get_page(request.GET.get("sida"))
    return render(
        request,
        "meetings/team_detail.html",
        {
            "team": team,
            "members": queries.team_members(team),
            "upcoming": list(
                meetings.filter(ends_at__gte=now).order_by("starts_at")[:UPCOMING_SHOWN]
            ),
            "past": past,
        },
    )


FormT = TypeVar("FormT", bound=forms.Form)


@dataclass
class AgendaRow:
    """One agenda item as this user sees it: `shown` only when the policy lets them see who
    the child is (and the access has been logged)."""

    item: AgendaItem
    shown: queries.Shown | None
    minutes_form: MinutesForm | None = None
    action_form: ActionForm | None = None
    amend_forms: list[tuple[str, AmendForm]] = field(default_factory=list)


def _minutes_initial(item: AgendaItem) -> dict[str, object]:
    return {
        "version": item.version,
        "discussion": item.discussion,
        "decisions": item.decisions,
        "themes": [theme.pk for theme in item.themes.all()],
        "contact_person": item.concern.contact_person_id or item.concern.created_by_id,
    }


def _meeting_page(
    request: HttpRequest,
    meeting: Meeting,
    *,
    bound: forms.Form | None = None,
    anchor: str = "",
) -> HttpResponse:
    """The meeting page: agenda, minutes, attendance, follow-up, closing.

    `bound` is a form the user just sent that was refused: it takes the place of the form
    with the same prefix, and is shown even where that form is not normally offered (minutes
    sent to a meeting closed meanwhile), so that the error is seen and no text is lost.
    """
    user = request.user
    team = meeting.team
    is_coordinator = policy.may_run_meeting(user, team)
    is_open = not meeting.is_closed
    items = queries.agenda_for_page(meeting)
    shown = queries.agenda_identities(request, items)
    memberships = queries.team_members(team)
    members = Members(memberships, team.coordinator)
    themes = queries.themes_for(meeting)

    def pick(prefix: str, make: Callable[[], FormT] | None) -> FormT | None:
        if bound is not None and bound.prefix == prefix:
            # A prefix is only ever given to forms of one class: the one `make` builds.
            return cast(FormT, bound)
        return make() if make is not None else None

    rows = []
    for item in items:
        minutes = partial(
            MinutesForm,
            initial=_minutes_initial(item),
            prefix=f"minutes-{item.pk}",
            members=members,
            themes=themes,
        )
        action = partial(ActionForm, prefix=f"action-{item.pk}", members=members)
        amend_forms = [
            pick(
                f"amend-{item.pk}-{name}",
                partial(
                    AmendForm,
                    initial={"new_value": getattr(item, name)},
                    prefix=f"amend-{item.pk}-{name}",
                )
                if meeting.is_closed and is_coordinator
                else None,
            )
            for name in AMENDABLE
        ]
        rows.append(
            AgendaRow(
                item=item,
                shown=shown.get(item.pk),
                minutes_form=pick(f"minutes-{item.pk}", minutes if is_open else None),
                action_form=pick(f"action-{item.pk}", action if is_open else None),
                amend_forms=[
                    (name, form) for name, form in zip(AMENDABLE, amend_forms, strict=True) if form
                ],
            )
        )

    attendance = {a.professional_id: a.present for a in Attendance.objects.filter(meeting=meeting)}
    present = [pk for pk, was_present in attendance.items() if was_present]
    attendance_form = pick(
        "attendance",
        partial(
            AttendanceForm, initial={"present": present}, prefix="attendance", members=memberships
        )
        if is_coordinator and is_open
        else None,
    )
    open_actions = list(services.open_actions_before(meeting).select_related("concern"))
    return render(
        request,
        "meetings/meeting_detail.html",
        {
            "meeting": meeting,
            "team": team,
            "is_coordinator": is_coordinator,
            "rows": rows,
            "attendance": [(m, attendance.get(m.professional_id)) for m in memberships],
            "attendance_form": attendance_form,
            "open_actions": open_actions,
            "done_form": pick("done", partial(RefusalForm, prefix="done")),
            "close_form": pick("close", partial(RefusalForm, prefix="close")),
            "anchor": anchor,
        },
    )


def _meeting_or_404(request: HttpRequest, pk: int) -> Meeting:
    meeting = queries.meeting_for_page(request.user, pk)  # type: ignore[arg-type]
    if meeting is None:
        raise Http404
    return meeting


def _back_to(meeting: Meeting, anchor: str) -> HttpResponse:
    return redirect(f"{reverse('meetings:meeting_detail', args=[meeting.pk])}#{anchor}")


@require_http_methods(["GET"])
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _meeting_page(request, _meeting_or_404(request, pk))


@require_http_methods(["GET", "POST"])
def nominate(request: HttpRequest, pk: int) -> HttpResponse:
    """Put one of the user's own open cases on the meeting's agenda."""
    meeting = _meeting_or_404(request, pk)
    form = NominateForm(
        request.POST or None, user=policy.acting_professional(request.user), meeting=meeting
    )
    if request.method == "POST" and form.is_valid():
        try:
            item = services.item_nominate(
                request=request, meeting=meeting, concern=form.cleaned_data["concern"]
            )
        except MeetingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The case is on the agenda."))
            return _back_to(meeting, f"item-{item.pk}")
    has_choices = form.fields["concern"].queryset.exists()  # type: ignore[attr-defined]
    return render(
        request,
        "meetings/nominate.html",
        {"meeting": meeting, "form": form, "has_choices": has_choices},
    )


def _item_or_404(request: HttpRequest, pk: int) -> AgendaItem:
    return get_object_or_404(queries.items_of(request.user), pk=pk)  # type: ignore[arg-type]


@require_http_methods(["POST"])
def minutes_save(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item_or_404(request, pk)
    meeting = item.meeting
    prefix = f"minutes-{item.pk}"
    members = Members(queries.team_members(meeting.team), meeting.team.coordinator)
    themes = queries.themes_for(meeting)
    form = MinutesForm(request.POST, prefix=prefix, members=members, themes=themes)
    if form.is_valid():
        try:
            services.minutes_save(
                request=request,
                item=item,
                version=form.cleaned_data["version"],
                discussion=form.cleaned_data["discussion"],
                decisions=form.cleaned_data["decisions"],
                themes=form.cleaned_data["themes"],
                contact_person=form.cleaned_data["contact_person"],
            )
        except StaleEdit as error:
            # Keep the user's text, but let the next save build on the version now stored:
            # the page shows that text beside theirs, to merge by hand.
            data = request.POST.copy()
            data[f"{prefix}-version"] = str(AgendaItem.objects.get(pk=item.pk).version)
            form = MinutesForm(data, prefix=prefix, members=members, themes=themes)
            form.is_valid()
            form.add_error(None, str(error))
            form.conflict = True
        except MeetingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The minutes have been saved."))
            return _back_to(meeting, f"item-{item.pk}")
    return _meeting_page(request, meeting, bound=form, anchor=f"item-{item.pk}")


@require_http_methods(["POST"])
def action_add(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item_or_404(request, pk)
    meeting = item.meeting
    members = Members(queries.team_members(meeting.team), meeting.team.coordinator)
    form = ActionForm(request.POST, prefix=f"action-{item.pk}", members=members)
    if form.is_valid():
        try:
            services.action_add(
                request=request,
                item=item,
                what=form.cleaned_data["what"],
                responsible=form.cleaned_data["responsible"],
                due_date=form.cleaned_data["due_date"],
            )
        except MeetingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The action has been added."))
            return _back_to(meeting, f"item-{item.pk}")
    return _meeting_page(request, meeting, bound=form, anchor=f"item-{item.pk}")


@require_http_methods(["POST"])
def action_done(request: HttpRequest, pk: int, action_pk: int) -> HttpResponse:
    """Mark one of the team's actions done (its responsible person or the coordinator)."""
    meeting = _meeting_or_404(request, pk)
    action = get_object_or_404(
        Action.objects.filter(team=meeting.team).select_related("agenda_item"), pk=action_pk
    )
    try:
        action_complete(request=request, action=action)
    except CaseError as error:
        form = RefusalForm(request.POST, prefix="done")
        form.add_error(None, str(error))
        return _meeting_page(request, meeting, bound=form, anchor="follow-up")
    messages.success(request, _("The action is marked as done."))
    item = action.agenda_item
    return _back_to(
        meeting, f"item-{item.pk}" if item and item.meeting_id == meeting.pk else "follow-up"
    )


@require_http_methods(["POST"])
def attendance(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    form = AttendanceForm(
        request.POST, prefix="attendance", members=queries.team_members(meeting.team)
    )
    if form.is_valid():
        try:
            services.attendance_set(
                request=request, meeting=meeting, present=set(form.cleaned_data["present"])
            )
        except MeetingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Attendance has been saved."))
            return _back_to(meeting, "attendance")
    return _meeting_page(request, meeting, bound=form, anchor="attendance")


@require_http_methods(["POST"])
def close(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    try:
        services.meeting_close(request=request, meeting=meeting)
    except MeetingError as error:
        form = RefusalForm(request.POST, prefix="close")
        form.add_error(None, str(error))
        return _meeting_page(request, meeting, bound=form, anchor="close")
    messages.success(request, _("The meeting is closed and its minutes are locked."))
    return redirect("meetings:meeting_detail", pk=meeting.pk)


@require_http_methods(["POST"])
def amend(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct closed minutes (the coordinator): the old text and the reason are kept."""
    item = _item_or_404(request, pk)
    # Which part is corrected rides outside the form's prefix: the prefix depends on it.
    part = request.POST.get("part", "")
    if part not in AMENDABLE:
        raise BadRequest
    form = AmendForm(request.POST, prefix=f"amend-{item.pk}-{part}")
    if form.is_valid():
        try:
            services.item_amend(
                request=request,
                item=item,
                field=part,
                new_value=form.cleaned_data["new_value"],
                reason=form.cleaned_data["reason"],
            )
        except MeetingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The correction has been recorded."))
            return _back_to(item.meeting, f"item-{item.pk}")
    return _meeting_page(request, item.meeting, bound=form, anchor=f"item-{item.pk}")
