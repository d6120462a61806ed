from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from audit.models import Action
from audit.services import access_log
from consent import policy
from consent.policy import Basis, Decision, Purpose

from .forms import ChildRegistrationForm, ChildSearchForm, GuardianForm
from .models import Child, Custody
from .queries import child_for_request, child_list_page
from .services import AlreadyRegistered, child_register


@require_GET
def child_list(request: HttpRequest) -> HttpResponse:
    """Start page: the user's units and a searchable, paginated list of their children."""
    form = ChildSearchForm(request.GET or None)
    children = Child.objects.visible_to(request.user)  # type: ignore[arg-type]
    query = form.cleaned_data["q"] if form.is_valid() else ""
    if query:
        children = children.search(query)
    elif form.is_bound and not form.is_valid():
        children = children.none()
    page = child_list_page(
        request.user,  # type: ignore[arg-type]
        children,
        everything=not query and not form.errors,
        number=request.GET.get("sida"),
    )
    # The list shows names and numbers of the user's own children: logged as one search event.
    access_log(
        request=request,
        action=Action.LIST_CHILDREN,
        purpose=Purpose.CARE,
        decision=Decision(allowed=True, basis=Basis.OWN_UNIT),
    )
    return render(
        request,
        "families/child_list.html",
        {
            "form": form,
            "page": page,
            "units": policy.current_units(request.user),
            "query": query,
        },
    )


@require_GET
def child_detail(request: HttpRequest, pk: int) -> HttpResponse:
    child, decision = child_for_request(request, pk, action=Action.VIEW_CHILD, purpose=Purpose.CARE)
    custodies = child.custodies.select_related("guardian").order_by(
        "guardian__last_name", "guardian__first_name"
    )
    return render(
        request,
        "families/child_detail.html",
        {
            "child": child,
            "custodies": custodies,
            "decision": decision,
            "show_address": policy.may_see_address(request.user, child),
            "may_extract": policy.may_produce_log_extract(request.user, child).allowed,
            "may_screen": policy.may_run_screening(request.user, child).allowed,
        },
    )


@require_http_methods(["GET", "POST"])
def child_register_view(request: HttpRequest) -> HttpResponse:
    """Register a child (e.g. a newborn) in one of the user's units, with its guardians."""
    data = request.POST or None
    units = policy.current_units(request.user)
    form = ChildRegistrationForm(data, units=units)
    guardian_forms = [
        GuardianForm(data, prefix="g1"),
        GuardianForm(data, prefix="g2", use_required_attribute=False, empty_permitted=True),
    ]
    if request.method == "POST":
        valid = form.is_valid() & all([g.is_valid() for g in guardian_forms])
        guardians = [g.cleaned_data for g in guardian_forms if g.is_valid() and g.has_changed()]
        if valid:
            wanted = 1 if form.cleaned_data["custody"] == Custody.Kind.SOLE else 2
            if len(guardians) != wanted:
                form.add_error(
                    "custody", _("Sole custody has one guardian; joint custody has two.")
                )
        if valid and not form.errors:
            try:
                child = child_register(
                    request=request,
                    unit=form.cleaned_data["unit"],
                    child_data=form.cleaned_data,
                    guardians_data=guardians,
                    custody=form.cleaned_data["custody"],
                )
            except AlreadyRegistered:
                form.add_error(
                    None,
                    _("This child is already registered. Ask the child's BVC or school."),
                )
            else:
                messages.success(request, _("The child has been registered."))
                return redirect("families:child_detail", pk=child.pk)
    return render(
        request,
        "families/child_register.html",
        {"form": form, "guardian_forms": guardian_forms},
    )
