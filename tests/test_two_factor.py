"""Two-factor sign-in (TOTP): required of Editors, offered to Writers."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.asserts import assertContains, assertRedirects

pytestmark = pytest.mark.django_db

PASSWORD = "long-enough-password-1"
LOGIN = reverse("admin:login")
INDEX = reverse("admin:index")
SETUP = reverse("admin:two-factor")


@pytest.fixture(autouse=True)
def _require_2fa(settings):
    settings.BRIEFINGS_REQUIRE_2FA = True


def person(username, group):
    user = User.objects.create_user(username, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def code(device):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def sign_in(client, username, token=""):
    return client.post(
        LOGIN,
        {"username": username, "password": PASSWORD, "otp_token": token, "next": INDEX},
    )


def test_an_editor_sets_up_an_app_before_using_the_admin():
    person("editor", "Editors")
    client = Client()
    assert sign_in(client, "editor").status_code == 302  # password accepted...
    response = client.get(INDEX, follow=True)  # ...but the admin waits for 2FA
    assert response.redirect_chain[-1][0] == SETUP
    assertContains(response, "Editors sign in with two factors")
    assertContains(response, "<svg")  # the QR code, drawn on the server
    key = re.search(
        r'<code class="two-factor__key">([A-Z2-7 ]+)</code>', response.content.decode()
    )
    assert key and len(key.group(1).replace(" ", "")) >= 32
    for blocked in (reverse("admin:briefings_article_changelist"), INDEX):
        assertRedirects(client.get(blocked), SETUP, fetch_redirect_response=False)

    device = TOTPDevice.objects.get(user__username="editor")
    assert not device.confirmed
    wrong = client.post(SETUP, {"token": "000000"})
    assertContains(wrong, "That code is not right")
    with time_machine.travel(timedelta(seconds=3)):  # after the wrong guess's pause
        response = client.post(SETUP, {"token": code(device)})
    assertContains(response, "Your recovery codes")  # shown once: see below
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("admin:briefings_article_changelist")).status_code == 200


def test_with_an_app_a_password_alone_does_not_sign_in():
    editor = person("editor", "Editors")
    device = TOTPDevice.objects.create(user=editor, name="phone", confirmed=True)
    client = Client()
    response = sign_in(client, "editor")
    assert response.status_code == 200
    assertContains(response, "Please enter your OTP token")
    assert client.get(INDEX).status_code == 302
    response = sign_in(client, "editor", token="123456")
    assert response.status_code == 200
    with time_machine.travel(timedelta(seconds=3)):  # after the wrong guess's pause
        token = code(device)
        response = sign_in(client, "editor", token=token)
        assertRedirects(response, INDEX, fetch_redirect_response=False)
        assert client.get(INDEX).status_code == 200
        # The same code cannot be used twice (even if its 30 s are not over).
        other = Client()
        assert sign_in(other, "editor", token=token).status_code == 200
    with time_machine.travel(timedelta(seconds=40)):
        assert sign_in(other, "editor", token=code(device)).status_code == 302


def test_a_session_signed_in_without_the_code_is_refused():
    editor = person("editor", "Editors")
    TOTPDevice.objects.create(user=editor, name="phone", confirmed=True)
    client = Client()
    client.force_login(editor)  # a password-only session, however it was made
    response = client.get(INDEX)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_writers_may_sign_in_with_a_password_and_may_add_an_app():
    person("writer", "Writers")
    client = Client()
    assert sign_in(client, "writer").status_code == 302
    assert client.get(INDEX).status_code == 200
    response = client.get(SETUP)
    assertContains(response, "Turn on two-factor sign-in")
    assert "Editors must" not in response.content.decode()


def test_an_editor_without_an_app_can_still_sign_out():
    person("editor", "Editors")
    client = Client()
    sign_in(client, "editor")
    response = client.post(reverse("admin:logout"))
    assert response.status_code == 200
    assertContains(response, "Logged out")


def test_the_requirement_can_be_switched_off_for_local_work(settings):
    settings.BRIEFINGS_REQUIRE_2FA = False
    person("editor", "Editors")
    client = Client()
    sign_in(client, "editor")
    assert client.get(INDEX).status_code == 200


def test_every_admin_page_links_to_the_two_factor_set_up():
    """A writer (not required to) can find the page to set up an app."""
    person("writer", "Writers")
    client = Client()
    sign_in(client, "writer")
    for url in (INDEX, reverse("admin:briefings_article_changelist")):
        assertContains(client.get(url), f'<a href="{SETUP}">Two-factor sign-in</a>')
    assert client.get(SETUP).status_code == 200


# --- Recovery codes -------------------------------------------------------------


def recovery_codes(response):
    html = response.content.decode()
    return re.findall(r'<code class="two-factor__code">([a-z2-7]+)</code>', html)


def editor_with_app(client):
    """An Editor signed in with an app set up through the set-up page; the
    recovery codes that page showed."""
    person("editor", "Editors")
    sign_in(client, "editor")
    client.get(SETUP)
    device = TOTPDevice.objects.get(user__username="editor")
    response = client.post(SETUP, {"token": code(device)})
    assertContains(response, "Two-factor sign-in is on")
    return device, recovery_codes(response)


def test_recovery_codes_are_shown_once_and_each_signs_in_once():
    client = Client()
    device, codes = editor_with_app(client)
    assert len(set(codes)) == 10
    assert all(len(c) == 8 and not c.isdigit() for c in codes)
    page = client.get(SETUP)
    assertContains(page, "Recovery codes left: 10")
    assert not set(codes) & set(recovery_codes(page))
    assert not any(c in page.content.decode() for c in codes)
    # The phone is lost: a recovery code instead of the app's code.
    lost_phone = Client()
    response = sign_in(lost_phone, "editor", token=codes[0].upper())
    assertRedirects(response, INDEX, fetch_redirect_response=False)
    changelist = reverse("admin:briefings_article_changelist")
    assert lost_phone.get(changelist).status_code == 200
    assertContains(lost_phone.get(SETUP), "Recovery codes left: 9")
    # Each code works once.
    with time_machine.travel(timedelta(seconds=3)):
        again = Client()
        response = sign_in(again, "editor", token=codes[0])
        assert response.status_code == 200
        assert again.get(changelist).status_code == 302
    with time_machine.travel(timedelta(seconds=10)):
        assertRedirects(
            sign_in(Client(), "editor", token=codes[1]),
            INDEX,
            fetch_redirect_response=False,
        )


def test_new_recovery_codes_void_the_old_ones():
    client = Client()
    device, old = editor_with_app(client)
    response = client.post(SETUP, {"new_codes": "1"})
    new = recovery_codes(response)
    assert len(new) == 10 and not set(new) & set(old)
    assertContains(response, "this page is the only time they are shown")
    assert sign_in(Client(), "editor", token=old[0]).status_code == 200
    with time_machine.travel(timedelta(seconds=3)):
        assertRedirects(
            sign_in(Client(), "editor", token=new[0]),
            INDEX,
            fetch_redirect_response=False,
        )


def test_an_editor_who_lost_the_phone_sets_up_a_new_one():
    client = Client()
    old_app, codes = editor_with_app(client)
    lost_phone = Client()
    sign_in(lost_phone, "editor", token=codes[0])
    page = lost_phone.get(SETUP, {"replace": "1"})
    assertContains(page, "Setting up a new phone")
    new_app = TOTPDevice.objects.get(user__username="editor", confirmed=False)
    response = lost_phone.post(f"{SETUP}?replace=1", {"token": code(new_app)})
    assert len(recovery_codes(response)) == 10
    assert list(TOTPDevice.objects.values_list("pk", flat=True)) == [new_app.pk]
    assert not TOTPDevice.objects.filter(pk=old_app.pk).exists()
