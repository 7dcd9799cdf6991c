"""The newsroom's admin site: Django's, with two-factor sign-in (django-otp, TOTP).

- Anyone with a confirmed authenticator app gives its 6-digit code at sign-in,
  after the password; a session without it is not let in.
- Editors (who publish) and superusers must have one: until they have set it
  up, every admin page, and every other staff page (`staff_page`), sends them
  to the setup page. Writers may set one up.
  BRIEFINGS_REQUIRE_2FA=0 switches the requirement off (local development).
- The setup page shows a QR code drawn on the server (segno, inline SVG: no
  third-party request) and the key to type by hand, and turns the device on
  only after a correct code.
- Recovery codes (django-otp's static tokens): ten, shown once when the app is
  set up, each good for one sign-in instead of the app's code (a lost phone);
  making new ones makes the old ones void.
"""

from base64 import b32encode
from functools import update_wrapper, wraps

import segno
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.safestring import mark_safe
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from briefings.stories.models import PUBLISH_PERMISSION

DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
RECOVERY_CODES = 10


def must_use_2fa(user) -> bool:
    # has_perm() is true for an active superuser too.
    return settings.BRIEFINGS_REQUIRE_2FA and user.has_perm(PUBLISH_PERMISSION)


class TwoFactorAuthenticationForm(OTPAuthenticationFormMixin, AdminAuthenticationForm):
    """Password first; then the app's code, for everyone who has an app."""

    otp_device = forms.CharField(required=False, widget=forms.HiddenInput)
    otp_challenge = forms.CharField(required=False, widget=forms.HiddenInput)
    otp_token = forms.CharField(
        required=False,
        label="Code from your authenticator app",
        help_text="Leave empty if you have not set up two-factor sign-in. "
        "Lost your phone? Type one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        if user is not None and user_has_device(user):
            token = "".join((cleaned.get("otp_token") or "").split())
            if not token.isdigit():  # a recovery code, however it was typed
                token = token.lower().replace("-", "")
            cleaned["otp_token"] = token
            if not cleaned.get("otp_device"):
                # The app's code is digits; a recovery code has letters.
                model = TOTPDevice if token.isdigit() else StaticDevice
                device = model.objects.filter(user=user, confirmed=True).first()
                if device is not None:
                    cleaned["otp_device"] = device.persistent_id
            self.clean_otp(user)
        return cleaned


class SetupForm(forms.Form):
    token = forms.CharField(
        label="Code from your authenticator app",
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}
        ),
    )

    def __init__(self, *args, device, **kwargs):
        super().__init__(*args, **kwargs)
        self.device = device

    def clean_token(self):
        token = self.cleaned_data["token"].strip().replace(" ", "")
        if not self.device.verify_token(token):
            raise forms.ValidationError(
                "That code is not right (or has expired). Check the time on your "
                "phone and try the newest code."
            )
        return token


def new_recovery_codes(user) -> list[str]:
    """Make `user` ten new recovery codes, voiding the old ones; return them.

    They are shown once, on the page that made them.
    """
    with transaction.atomic():
        device = StaticDevice.objects.filter(user=user).first()
        if device is None:
            device = StaticDevice.objects.create(
                user=user, name=RECOVERY_DEVICE_NAME, confirmed=True
            )
        device.token_set.all().delete()
        codes = []
        while len(codes) < RECOVERY_CODES:
            code = StaticToken.random_token()
            if not code.isdigit():  # never mistaken for an app's code
                codes.append(code)
        StaticToken.objects.bulk_create(
            StaticToken(device=device, token=code) for code in codes
        )
    return codes


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user).count()


def two_factor_redirect(request):
    """Where a staff page sends a signed-in staff member whose second factor
    is not in order; None when it is (or for anyone else).

    A session opened without the code of an app the user has goes back to
    sign-in; an Editor who has not set up an app yet goes to the set-up page.
    """
    user = request.user
    if not (user.is_active and user.is_staff) or user.is_verified():
        return None
    if _has_device(request):
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if must_use_2fa(user):
        messages.warning(
            request,
            "Editors sign in with two factors. Set up your authenticator "
            "app to continue.",
        )
        return redirect("admin:two-factor")
    return None


def staff_page(view):
    """A staff page outside the admin: the admin's two-factor rule applies."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        return two_factor_redirect(request) or view(request, *args, **kwargs)

    return wrapped


class NewsroomAdminSite(admin.AdminSite):
    site_header = "Briefings newsroom"
    site_title = "Briefings admin"
    index_title = "Newsroom"
    # The desk (briefings/desk.py) above the list of models.
    index_template = "admin/desk.html"
    login_form = TwoFactorAuthenticationForm

    def has_permission(self, request):
        user = request.user
        if not super().has_permission(request):
            return False
        # With an app set up, a password alone does not let anyone in.
        return user.is_verified() or not _has_device(request)

    # Pages an editor without an app may still open.
    OPEN_WITHOUT_2FA = {"logout", "password_change", "password_change_done"}

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)
        if getattr(view, "__name__", "") in self.OPEN_WITHOUT_2FA:
            return inner

        def wrapped(request, *args, **kwargs):
            if self.has_permission(request):
                to_setup = two_factor_redirect(request)
                if to_setup is not None:
                    return to_setup
            return inner(request, *args, **kwargs)

        return update_wrapper(wrapped, view)

    def get_urls(self):
        setup = super().admin_view(self.two_factor_view)
        return [path("two-factor/", setup, name="two-factor"), *super().get_urls()]

    def each_context(self, request):
        context = super().each_context(request)
        context["two_factor_url"] = reverse("admin:two-factor", current_app=self.name)
        return context

    def two_factor_view(self, request):
        """Set up (or see the state of) the signed-in user's authenticator app,
        make new recovery codes, or move to a new phone."""
        user = request.user
        app = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if request.method == "POST" and "new_codes" in request.POST and app:
            return self._show_codes(request, new_recovery_codes(user))
        replacing = app is not None and "replace" in request.GET
        if app is not None and not replacing:
            return render(
                request,
                "admin/two_factor.html",
                {
                    **self.each_context(request),
                    "title": "Two-factor sign-in",
                    "on": True,
                    "codes_left": recovery_codes_left(user),
                },
            )
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(
                user=user, name=DEVICE_NAME, confirmed=False
            )
        form = SetupForm(request.POST or None, device=device)
        if request.method == "POST" and form.is_valid():
            with transaction.atomic():
                device.confirmed = True
                device.save()
                # A new phone replaces the old one.
                TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            otp_login(request, device)
            messages.success(
                request,
                "Two-factor sign-in is on: from now on, sign in with your password "
                "and a code from the app.",
            )
            return self._show_codes(request, new_recovery_codes(user))
        qr = segno.make(device.config_url, error="m")
        context = {
            **self.each_context(request),
            "title": "Set up two-factor sign-in",
            "on": False,
            "replacing": replacing,
            "form": form,
            # segno's SVG: drawn here, with no script and no outside request.
            "qr_svg": mark_safe(qr.svg_inline(scale=4, title="QR code")),  # noqa: S308
            "key": _base32(device),
            "required": must_use_2fa(user),
        }
        return render(request, "admin/two_factor.html", context)

    def _show_codes(self, request, codes):
        """The only page that ever shows these recovery codes."""
        return render(
            request,
            "admin/two_factor.html",
            {
                **self.each_context(request),
                "title": "Your recovery codes",
                "on": True,
                "codes": codes,
            },
        )


def _has_device(request) -> bool:
    """Whether the signed-in user has an app set up (asked once per request)."""
    if not hasattr(request, "_has_otp_device"):
        request._has_otp_device = user_has_device(request.user)
    return request._has_otp_device


def _base32(device) -> str:
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))
