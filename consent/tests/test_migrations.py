"""Migrating a consent database that already holds consents."""

import datetime

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# SQLite cannot change a schema inside a transaction, so there the test commits and its
# database is emptied after. PostgreSQL can, and its access log refuses to be emptied: there
# the test runs in the transaction that every test rolls back.
ON_SQLITE = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
pytestmark = pytest.mark.django_db(transaction=ON_SQLITE)

BEFORE = [("consent", "0005_foreign_keys_led_by_other_indexes")]
AFTER = [("consent", "0006_scope_sector_in_municipality")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_a_sector_scope_recorded_before_reaches_the_recording_municipality_only():
    """Sector scopes recorded when they reached the whole country are bound to the
    municipality of the unit that recorded the consent; unit scopes stay as they were."""
    apps = _migrate(BEFORE)
    try:
        Organisation = apps.get_model("directory", "Organisation")
        Unit = apps.get_model("directory", "Unit")
        home = Organisation.objects.create(name="Ekby kommun", kind="municipality")
        away = Organisation.objects.create(name="Sjöstad kommun", kind="municipality")
        bvc = Unit.objects.create(
            organisation=home, municipality=home, sector="child_health", name="BVC Ekby"
        )
        social = Unit.objects.create(
            organisation=away, municipality=away, sector="social_services", name="Soc Sjöstad"
        )
        nurse = apps.get_model("directory", "Professional").objects.create(username="nurse")
        child = apps.get_model("families", "Child").objects.create(
            first_name="Test",
            last_name="Barn",
            reserve_number="R-TEST-1",
            birth_date=datetime.date(2024, 1, 1),
            bvc_unit=bvc,
        )
        consent = apps.get_model("consent", "Consent").objects.create(
            child=child,
            purpose="information_exchange",
            valid_from=datetime.date(2026, 1, 1),
            valid_until=datetime.date(2026, 12, 31),
            recorded_by=nurse,
            recorded_unit=bvc,
            child_age_years=2,
            form_text="…",
        )
        Scope = apps.get_model("consent", "ConsentScope")
        Scope.objects.create(consent=consent, sector="social_services")
        Scope.objects.create(consent=consent, unit=social)
        if not ON_SQLITE:  # the foreign keys checked now: a table with checks pending is locked
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

        apps = _migrate(AFTER)
        scopes = apps.get_model("consent", "ConsentScope").objects.order_by("pk")
        assert [(s.sector, s.municipality_id, s.unit_id) for s in scopes] == [
            ("social_services", home.pk, None),
            ("", None, social.pk),
        ]
    finally:  # every app at its newest migration again, as the other tests expect it
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
