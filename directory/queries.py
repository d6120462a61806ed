"""Reads of the resource directory."""

from __future__ import annotations

from collections.abc import Iterable

from .models import Organisation, Service

SWEDISH = "sv"


def suggest_services(
    domains: Iterable[str], municipality: Organisation | None, language: str
) -> list[Service]:
    """Active services in `municipality` that help with one of `domains` (screening domains)
    and whose staff speak `language` or Swedish, best first: the most domains in common, then
    those who speak the family's own language, then by name.

    A service that lists no languages is taken to work in Swedish. The matching happens in
    Python over the municipality's services (a short list), because JSON containment lookups
    are not portable to SQLite.
    """
    wanted = set(domains)
    if not wanted or municipality is None:
        return []
    ranked = []
    for service in Service.objects.filter(active=True, municipality=municipality).select_related(
        "provider"
    ):
        common = wanted & set(service.domains or [])
        spoken = set(service.languages or [SWEDISH])
        if not common or not (language in spoken or SWEDISH in spoken):
            continue
        ranked.append(((-len(common), language not in spoken, service.name, service.pk), service))
    return [service for _key, service in sorted(ranked, key=lambda pair: pair[0])]
