"""Work a new app process does before it serves anyone.

Django loads the URLconf, compiles each template and reads each language's catalogue on first
use, so without this the first users after every start or restart of a worker wait for it: a
third of a second on the first page, twice the usual time on each page after it. None of this
touches the database, so it is safe in a server's parent process before it forks its workers.

Then everything loaded so far is moved out of the garbage collector's sight (`gc.freeze`):
these objects live as long as the process, yet every full collection walked them all, a pause
of about 50 ms every twenty or so heavy pages (the worklist's p95 at 2M children was such
pauses); walking only what requests allocate takes about 6 ms.
"""

from __future__ import annotations

import gc
from pathlib import Path

from django.conf import settings
from django.template import engines
from django.template.backends.django import DjangoTemplates
from django.urls import get_resolver
from django.utils import translation


def _ours(directory: Path) -> bool:
    inside = directory.is_relative_to(settings.BASE_DIR)
    return inside and not {".venv", "site-packages"} & set(directory.parts)


def project_templates() -> list[str]:
    """The names of the project's own templates: the shared folder and every app's folder."""
    names: set[str] = set()
    for engine in engines.all():
        if not isinstance(engine, DjangoTemplates):
            continue
        for loader in engine.engine.template_loaders:
            # Every loader Django ships has get_dirs; the stubs' base class does not.
            for directory in map(Path, loader.get_dirs()):  # type: ignore[attr-defined]
                if not _ours(directory):
                    continue  # third-party templates are compiled when first used
                names.update(str(path.relative_to(directory)) for path in directory.rglob("*.html"))
    return sorted(names)


def warm_up() -> None:
    """Import every view through the URLconf, compile the project's templates and read the
    catalogues, so the process's first requests cost what later ones do; then freeze what
    start-up made, so the collector's full passes skip it."""
    get_resolver().reverse_dict  # noqa: B018 (imports every urls module and view)
    for engine in engines.all():
        for name in project_templates():
            engine.get_template(name)
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext(code)  # any message: the first one reads the catalogue
    gc.collect()  # what start-up left behind goes now, not into the frozen generation
    gc.freeze()
