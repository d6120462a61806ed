"""Password, then TOTP; lock-out; session limits; headers on authenticated pages."""

import datetime
import time

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import factories

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


def _code(user) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def _password_step(client, username, password=PASSWORD):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_the_login_page_is_swedish():
    response = Client().get(reverse("accounts:login"))
    body = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="sv">' in body and "Logga in" in body


def test_password_then_totp_gives_access_to_the_start_page(cast):
    client = Client()
    response = _password_step(client, "nurse")
    assert response.status_code == 302 and response.url == reverse("accounts:second_factor")
    # Password alone opens nothing.
    assert client.get(reverse("families:child_list")).url == reverse("accounts:second_factor")
    response = client.post(reverse("accounts:second_factor"), {"token": _code(cast.nurse)})
    assert response.status_code == 302
    assert client.get(reverse("families:child_list")).status_code == 200


def test_a_wrong_code_is_refused_with_a_message(cast):
    client = Client()
    _password_step(client, "nurse")
    wrong = "000000" if _code(cast.nurse) != "000000" else "111111"
    response = client.post(reverse("accounts:second_factor"), {"token": wrong})
    assert response.status_code == 200 and response.context["form"].errors["token"]
    assert client.get(reverse("families:child_list")).status_code == 302


def test_a_wrong_password_is_refused_with_a_message(cast):
    response = _password_step(Client(), "nurse", "wrong password")
    assert response.status_code == 200 and response.context["form"].non_field_errors()


def test_repeated_failures_lock_the_account_out_even_for_the_right_password(cast, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _password_step(client, "nurse", "wrong password")
    response = _password_step(client, "nurse")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_out_ends_after_the_cool_off(cast, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _password_step(client, "nurse", "wrong password")
    later = datetime.datetime.now(tz=datetime.UTC) + settings.AXES_COOLOFF_TIME
    with time_machine.travel(later + datetime.timedelta(minutes=1), tick=False):
        assert _password_step(client, "nurse").status_code == 302


def test_a_first_login_enrols_totp_with_a_qr_code_and_recovery_codes(db):
    user = factories.professional("newcomer")
    TOTPDevice.objects.filter(user=user).delete()
    client = Client()
    _password_step(client, "newcomer")
    assert client.get(reverse("accounts:second_factor")).url == reverse("accounts:enrol")
    page = client.get(reverse("accounts:enrol"))
    assert "<svg" in page.content.decode() and page.context["secret"]
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    response = client.post(reverse("accounts:enrol"), {"token": f"{totp.token():06d}"})
    assert response.status_code == 200 and len(response.context["codes"]) == 10
    assert TOTPDevice.objects.get(user=user).confirmed
    assert client.get(reverse("families:child_list")).status_code == 200


def test_a_recovery_code_works_once(cast):
    from accounts.second_factor import recovery_codes_issue

    code = recovery_codes_issue(user=cast.nurse)[0]
    first = Client()
    _password_step(first, "nurse")
    assert first.post(reverse("accounts:second_factor"), {"token": code}).status_code == 302
    assert not StaticToken.objects.filter(token=code).exists()
    second = Client()
    _password_step(second, "nurse")
    assert second.post(reverse("accounts:second_factor"), {"token": code}).status_code == 200


def test_passwords_are_hashed_with_argon2(db, settings):
    from samverkan import settings as project_settings

    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS  # undo the fast test hasher
    user = factories.professional("hashed")
    user.set_password("a long passphrase here")
    assert user.password.startswith("argon2$")


def test_an_idle_session_ends_after_30_minutes(cast, as_user):
    client = as_user(cast.nurse)
    assert client.get(reverse("families:child_list")).status_code == 200
    with time_machine.travel(datetime.timedelta(minutes=31)):
        assert client.get(reverse("families:child_list")).status_code == 302


def test_the_idle_deadline_is_never_later_than_30_minutes_after_the_last_request(cast, as_user):
    """The session is saved at most once a minute: a request 59 s after the last save moves
    nothing, so the session ends 30 minutes after that save, 29 minutes and a second after
    the request, never later than 30 minutes after it."""
    client = as_user(cast.nurse)
    start = time.time()
    with time_machine.travel(start, tick=False):
        assert client.get(reverse("families:child_list")).status_code == 200  # saved
    with time_machine.travel(start + 59, tick=False):
        assert client.get(reverse("families:child_list")).status_code == 200  # not saved
    with time_machine.travel(start + 29 * 60 + 50, tick=False):
        assert client.get(reverse("families:child_list")).status_code == 200  # saved again
    with time_machine.travel(start + 59 * 60 + 51, tick=False):
        assert client.get(reverse("families:child_list")).status_code == 302


def test_a_page_within_a_minute_of_the_last_save_writes_no_session(cast, as_user):
    client = as_user(cast.nurse)
    start = time.time()
    with time_machine.travel(start, tick=False):
        client.get(reverse("families:child_list"))
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    saved = Session.objects.get(session_key=key).expire_date
    with time_machine.travel(start + 30, tick=False), CaptureQueriesContext(connection) as seen:
        assert client.get(reverse("families:child_list")).status_code == 200
    writes = [q["sql"] for q in seen.captured_queries if not q["sql"].startswith("SELECT")]
    assert not [sql for sql in writes if '"django_session"' in sql]
    assert Session.objects.get(session_key=key).expire_date == saved
    with time_machine.travel(start + 61, tick=False):
        assert client.get(reverse("families:child_list")).status_code == 200
    assert Session.objects.get(session_key=key).expire_date > saved


def test_a_visitor_who_never_logged_in_gets_no_session_row(db, client):
    client.get(reverse("accounts:login"))
    assert not Session.objects.exists()


def test_an_active_session_ends_after_12_hours(cast, as_user):
    client = as_user(cast.nurse)
    start = time.time()
    for minutes in range(25, 12 * 60, 25):  # busy all day, never idle for 30 minutes
        with time_machine.travel(start + minutes * 60, tick=False):
            assert client.get(reverse("families:child_list")).status_code == 200
    with time_machine.travel(start + 12 * 3600 + 60, tick=False):
        response = client.get(reverse("families:child_list"))
        assert response.status_code == 302 and response.url == reverse("accounts:login")
        assert client.get(reverse("families:child_list")).status_code == 302


def test_timeouts_are_configurable(cast, as_user, settings):
    settings.SESSION_ABSOLUTE_TIMEOUT = 3600
    client = as_user(cast.nurse)
    with time_machine.travel(datetime.timedelta(minutes=61)):
        # Keep the idle limit out of the way: the absolute limit must still end it.
        assert client.get(reverse("families:child_list")).status_code == 302


def test_logout_ends_the_session(cast, as_user):
    client = as_user(cast.nurse)
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(reverse("families:child_list")).status_code == 302


def test_logout_removes_the_session_row_so_a_copied_cookie_is_worthless(cast, as_user):
    client = as_user(cast.nurse)
    stolen = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert Session.objects.filter(session_key=stolen).exists()
    client.post(reverse("accounts:logout"))
    assert not Session.objects.filter(session_key=stolen).exists()
    thief = Client()
    thief.cookies[settings.SESSION_COOKIE_NAME] = stolen
    assert thief.get(reverse("families:child_list")).status_code == 302


def test_authenticated_pages_are_never_cached_and_have_a_strict_csp(cast, as_user):
    child = factories.child(bvc=cast.bvc)
    client = as_user(cast.nurse)
    for url in [reverse("families:child_list"), reverse("families:child_detail", args=[child.pk])]:
        response = client.get(url)
        assert "no-store" in response["Cache-Control"]
        csp = response["Content-Security-Policy"]
        assert "object-src 'none'" in csp and "base-uri 'none'" in csp
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp


def test_the_admin_uses_the_same_login_with_second_factor(cast):
    client = Client()
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
    factories.professional("admin", is_staff=True, is_superuser=True)
    _password_step(client, "admin")
    # Logged in with a password only: the admin also asks for the second factor.
    assert client.get("/admin/").url == reverse("accounts:second_factor")


def test_a_regional_administrator_manages_the_directory_but_not_children(cast):
    from django.contrib.auth.models import Permission

    from conftest import verified_client

    admin = factories.professional("regionadmin", is_staff=True)
    admin.user_permissions.set(Permission.objects.filter(content_type__app_label="directory"))
    client = verified_client(admin)
    for model in ["organisation", "unit", "professional", "team"]:
        assert client.get(f"/admin/directory/{model}/").status_code == 200, model
    assert client.get("/admin/directory/unit/add/").status_code == 200
    assert client.get("/admin/families/child/").status_code == 404


def test_the_service_is_swedish_even_for_an_english_browser_until_english_is_chosen():
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "Logga in" in client.get(reverse("accounts:login")).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/konto/logga-in/"})
    body = client.get(reverse("accounts:login")).content.decode()
    assert '<html lang="en">' in body and "Log in" in body


def test_a_regional_administrator_configures_the_themes(cast):
    from django.contrib.auth.models import Permission

    from cases.models import Theme
    from conftest import verified_client

    admin = factories.professional("themeadmin", is_staff=True)
    admin.user_permissions.set(Permission.objects.filter(content_type__app_label="cases"))
    client = verified_client(admin)
    assert client.get("/admin/cases/theme/").status_code == 200
    response = client.post(
        "/admin/cases/theme/add/",
        {
            "code": "outdoor-play",
            "name_sv": "Utelek",
            "name_en": "Outdoor play",
            "order": 20,
            "active": "on",
        },
    )
    assert response.status_code == 302 and Theme.objects.filter(code="outdoor-play").exists()
    assert client.get("/admin/cases/concern/").status_code == 404  # cases are not in the admin
