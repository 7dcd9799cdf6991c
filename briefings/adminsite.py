"""The newsroom's admin site: Django's, with two-factor sign-in (django-otp, TOTP).

- Anyone with a confirmed authenticator app gives its 6-digit code at sign-in,
  after the password; a session without it is not let in.
- Editors (who publish) and superusers must have one: until they have set it
  up, every admin page sends them to the setup page. Writers may set one up.
  BRIEFINGS_REQUIRE_2FA=0 switches the requirement off (local development).
- The setup page shows a QR code drawn on the server (segno, inline SVG: no
  third-party request) and the key to type by hand, and turns the device on
  only after a correct code.
"""

from functools import update_wrapper

import segno
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.safestring import mark_safe
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "Authenticator app"
PUBLISH_PERMISSION = "briefings.publish_article"


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
        help_text="Leave empty if you have not set up two-factor sign-in.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}
        ),
    )

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        if user is not None and user_has_device(user):
            if not cleaned.get("otp_device"):
                # People have one app (the setup page makes one); use it.
                device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
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
            user = request.user
            if (
                self.has_permission(request)
                and must_use_2fa(user)
                and not user.is_verified()
            ):
                messages.warning(
                    request,
                    "Editors sign in with two factors. Set up your authenticator "
                    "app to continue.",
                )
                return redirect("admin:two-factor")
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
        """Set up (or see the state of) the signed-in user's authenticator app."""
        user = request.user
        if user_has_device(user):
            return render(
                request,
                "admin/two_factor.html",
                {
                    **self.each_context(request),
                    "title": "Two-factor sign-in",
                    "on": True,
                },
            )
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(
                user=user, name=DEVICE_NAME, confirmed=False
            )
        form = SetupForm(request.POST or None, device=device)
        if request.method == "POST" and form.is_valid():
            device.confirmed = True
            device.save()
            otp_login(request, device)
            messages.success(
                request,
                "Two-factor sign-in is on: from now on, sign in with your password "
                "and a code from the app.",
            )
            return redirect("admin:index")
        qr = segno.make(device.config_url, error="m")
        context = {
            **self.each_context(request),
            "title": "Set up two-factor sign-in",
            "on": False,
            "form": form,
            # segno's SVG: drawn here, with no script and no outside request.
            "qr_svg": mark_safe(qr.svg_inline(scale=4, title="QR code")),  # noqa: S308
            "key": _base32(device),
            "required": must_use_2fa(user),
        }
        return render(request, "admin/two_factor.html", context)


def _has_device(request) -> bool:
    """Whether the signed-in user has an app set up (asked once per request)."""
    if not hasattr(request, "_has_otp_device"):
        request._has_otp_device = user_has_device(request.user)
    return request._has_otp_device


def _base32(device) -> str:
    from base64 import b32encode

    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))
