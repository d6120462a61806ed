"""A new app process loads its URLs, templates and catalogues before it serves anyone, so the
first users after a start or restart do not wait for them (and it does so without the
database, so it is safe in a server's parent process before it forks); then it freezes what
start-up made, so full garbage collections do not walk it."""

from __future__ import annotations

import secrets

from tests.settings_probe import probe

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "samverkan.settings",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "samverkan.region.example",
    "DEBUG": "0",
    # Nothing listens here: the warm-up must not need the database.
    "DATABASE_URL": "postgres://nobody@127.0.0.1:1/unreachable",
}

STATE_AFTER_IMPORT = """
import gc
import json
import samverkan.wsgi
from django.template import engines
from django.urls import get_resolver
from django.utils.translation import trans_real
from samverkan.warmup import project_templates

(loader,) = engines["django"].engine.template_loaders
print(json.dumps({
    "loader": type(loader).__name__,
    "urls_loaded": "url_patterns" in get_resolver().__dict__,
    "reverse_ready": bool(get_resolver()._reverse_dict),
    "templates": project_templates(),
    "compiled": sorted(loader.get_template_cache),
    "catalogues": sorted(trans_real._translations),
    "frozen": gc.get_freeze_count(),
}))
"""


def test_the_wsgi_application_starts_warm_without_the_database():
    state = probe(
        STATE_AFTER_IMPORT,
        without={"SAMVERKAN_TESTING", "SAMVERKAN_DEMO", "SECURE_TLS"},
        env=PRODUCTION,
    )
    assert state["loader"] == "Loader"  # the cached loader, as in production
    assert state["urls_loaded"] and state["reverse_ready"]
    # Every project template is compiled (the app folders' and the shared folder's)...
    assert {"base.html", "kiosk/question.html", "screening/worklist.html"} <= set(
        state["templates"]
    )
    assert set(state["templates"]) <= set(state["compiled"])
    # ...and no third-party one is (the admin's, say): they are compiled when first used.
    assert not any(name.startswith("admin/") for name in state["compiled"])
    assert {"sv", "en"} <= set(state["catalogues"])
    # What start-up made is out of the garbage collector's full passes (tens of thousands
    # of objects: modules, URL patterns, compiled templates).
    assert state["frozen"] > 10_000
