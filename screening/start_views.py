"""The nurse starts a BarnSäkert screening and hands the tablet over to the kiosk.

Only the child's own BVC runs a screening (`consent.policy.may_run_screening`); anyone else
gets the same 404 as for a missing child, and the attempt is logged. The guardians' one-time
codes exist in clear text only in the response that shows them: they are stored as hashes and
never put in a URL, so they reach no server log.
"""

from __future__ import annotations

from dataclasses import dataclass

import segno
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from audit.models import Action
from consent.policy import Purpose, may_run_screening
from consent.services import custodial_guardians
from families.models import Child, Guardian
from families.queries import child_for_request

from .forms import ScreeningStartForm
from .models import Occasion
from .services import ScreeningError, occasions_for, region_of, screening_start


@dataclass(frozen=True)
class HandoverCode:
    guardian: Guardian
    code: str
    qr: SafeString


def default_occasion(occasions: list[Occasion], child: Child) -> Occasion | None:
    """The occasion whose age window holds the child's age today, else the next one ahead."""
    age = (timezone.localdate() - child.birth_date).days
    for occasion in occasions:
        if occasion.min_age_days <= age <= occasion.max_age_days:
            return occasion
    ahead = [o for o in occasions if o.min_age_days > age]
    return min(ahead, key=lambda o: o.min_age_days) if ahead else None


def _qr(code: str) -> SafeString:
    # Just the code: a URL with the code in it would end up in access logs and browser history.
    svg = segno.make_qr(code, error="m").svg_inline(
        scale=4, border=2, omitsize=True, svgclass="qr-code", title=_("QR code of the code")
    )
    return mark_safe(svg)  # noqa: S308 -- segno's own markup of our own code


@require_http_methods(["GET", "POST"])
def screening_start_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose the occasion and the guardians present; on start, show each guardian's code
    once (it is never shown again: it is stored only as a hash)."""
    child, _decision = child_for_request(
        request, pk, action=Action.VIEW_CHILD, purpose=Purpose.CARE, decide=may_run_screening
    )
    region = region_of(child)
    if region is None:
        return render(
            request,
            "screening/start.html",
            {
                "child": child,
                "form": None,
                "problem": _(
                    "The child's BVC does not belong to a region, so no screening "
                    "occasions are set up for it."
                ),
            },
        )
    occasions = occasions_for(region)
    guardians = custodial_guardians(child)
    default = default_occasion(occasions, child)
    form = ScreeningStartForm(
        request.POST if request.method == "POST" else None,
        occasions=occasions,
        guardians=guardians,
        initial={"occasion": default.pk if default else None},
    )
    if request.method == "POST" and form.is_valid():
        chosen = sorted(form.cleaned_data["guardians"], key=lambda g: g.pk)
        try:
            screening, codes = screening_start(
                request=request,
                child=child,
                occasion=form.cleaned_data["occasion"],
                guardians=chosen,
            )
        except ScreeningError as error:
            form.add_error(None, str(error))
        else:
            return render(
                request,
                "screening/start_codes.html",
                {
                    "child": child,
                    "screening": screening,
                    "codes": [HandoverCode(g, codes[g.pk], _qr(codes[g.pk])) for g in chosen],
                },
            )
    return render(
        request,
        "screening/start.html",
        {"child": child, "form": form, "no_guardians": not guardians},
    )


@require_POST
def kiosk_handover(request: HttpRequest) -> HttpResponse:
    """Turn this device into the kiosk: the nurse is logged out first, so nothing of the
    nurse's session stays on the shared tablet; coming back needs the nurse's login."""
    logout(request)
    return redirect("kiosk:enter_code")
