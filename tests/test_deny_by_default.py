"""Deny by default: every URL needs a logged-in, second-factor-verified professional, except
an explicit allow-list. The test walks the whole URL configuration, so a new view is covered
the moment it is added."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

# Reachable without logging in, on purpose.
PUBLIC = {
    "accounts:login",
    "set_language",
    "healthz",
    "admin_login_redirect",
    "admin:login",  # shadowed by admin_login_redirect: the admin has no login of its own
    # The resource directory families open on their own phone: services only, no person
    # (tested in directory/tests/test_public_directory.py).
    "directory:public_services",
}
# The tablet kiosk answers without a login: each of its views demands a valid one-time code
# (tested in screening/tests), and never shows anything else.
PUBLIC_NAMESPACES = {"kiosk"}


def is_public(name: str | None) -> bool:
    return name in PUBLIC or (name or "").split(":")[0] in PUBLIC_NAMESPACES


# Reachable after the password but before the second factor: the login flow itself.
BEFORE_SECOND_FACTOR = {"accounts:logout", "accounts:second_factor", "accounts:enrol"}


def walk(resolvers=None, prefix="", namespace=""):
    for entry in get_resolver().url_patterns if resolvers is None else resolvers:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else None
            yield prefix + str(entry.pattern), name, entry.callback


def example_path(pattern: str) -> str:
    """A concrete path for a pattern: converters and regex groups filled with plausible values."""
    path = re.sub(r"<(?:int|id):\w+>", "1", pattern)
    path = re.sub(r"<(?:str|slug|path):\w+>|<\w+>", "x", path)
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", path)
    return "/" + path.lstrip("^").rstrip("$").replace("\\", "").replace("?", "")


PATTERNS = list(walk())


def test_the_allow_list_is_exactly_the_views_that_opt_out_of_login():
    opted_out = {name for _, name, view in PATTERNS if not getattr(view, "login_required", True)}
    namespaced = {name for name in opted_out if (name or "").split(":")[0] in PUBLIC_NAMESPACES}
    assert opted_out - namespaced == PUBLIC


def test_only_the_login_flow_opts_out_of_the_second_factor():
    opted_out = {
        name for _, name, view in PATTERNS if getattr(view, "second_factor_not_required", False)
    }
    assert opted_out == BEFORE_SECOND_FACTOR


def test_the_admins_own_login_is_unreachable(db):
    response = Client().get("/admin/login/")
    assert response.status_code == 302 and response.url.startswith("/konto/logga-in/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("pattern", "name"),
    [(p, n) for p, n, _ in PATTERNS if not is_public(n)],
    ids=lambda value: str(value),
)
def test_every_other_url_sends_an_anonymous_visitor_to_the_login(pattern, name):
    response = Client().get(example_path(pattern), follow=True)
    assert response.redirect_chain, (pattern, response.status_code)
    assert response.redirect_chain[-1][0].startswith("/konto/logga-in/")
    assert response.templates[0].name == "accounts/login.html"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("pattern", "name"),
    [(p, n) for p, n, _ in PATTERNS if not is_public(n) and n not in BEFORE_SECOND_FACTOR],
    ids=lambda value: str(value),
)
def test_every_other_url_asks_a_password_only_login_for_the_second_factor(pattern, name, cast):
    client = Client()
    client.post("/konto/logga-in/", {"username": "nurse", "password": "correct horse battery"})
    response = client.get(example_path(pattern))
    assert response.status_code == 302, (pattern, response.status_code)
    assert response.url == "/konto/tvastegsverifiering/"
