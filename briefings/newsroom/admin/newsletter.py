"""Storyboard in the admin: subscribers and editions."""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.csp import CSP
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.csp import csp_override

from briefings.newsletter import storyboard
from briefings.newsletter.editions import (
    DeliveryStatus,
    Edition,
    EditionItem,
    EditionStatus,
)
from briefings.newsletter.subscribers import Subscriber, SubscriberStatus
from briefings.newsroom.admin.common import (
    ChoosesByAutocomplete,
    csv_download,
)


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    """Subscribers join only by double opt-in; the admin reads and exports them.

    Editors may view and export. Deleting a subscriber (a request to be
    forgotten) needs the delete permission, which no group has by default.
    """

    list_display = ["email", "status", "created", "confirmed_at", "unsubscribed_at"]
    list_filter = ["status", "created", "confirmed_at", "consent_version"]
    search_fields = ["email"]
    date_hierarchy = "created"
    readonly_fields = [
        "email",
        "status",
        "created",
        "confirmed_at",
        "unsubscribed_at",
        "consent_version",
        "consent_text",
        "consented_at",
        "last_sent_at",
    ]
    actions = ["export_confirmed_csv", "unsubscribe"]

    def has_add_permission(self, request):
        return False  # only the reader can subscribe, by confirming their address

    @admin.action(
        description="Export the confirmed subscribers among the selected as CSV",
        permissions=["view"],
    )
    def export_confirmed_csv(self, request, queryset):
        header = [
            "email",
            "confirmed_at",
            "consent_version",
            "consented_at",
            "consent_text",
        ]
        rows = (
            [
                s.email,
                s.confirmed_at.isoformat(),
                s.consent_version,
                s.consented_at.isoformat(),
                s.consent_text,
            ]
            for s in queryset.confirmed().order_by("confirmed_at", "pk")
        )
        return csv_download("storyboard-subscribers.csv", header, rows)

    @admin.action(description="Unsubscribe the selected", permissions=["change"])
    def unsubscribe(self, request, queryset):
        count = queryset.exclude(status=SubscriberStatus.UNSUBSCRIBED).update(
            status=SubscriberStatus.UNSUBSCRIBED, unsubscribed_at=timezone.now()
        )
        self.message_user(request, f"{count} subscriber(s) unsubscribed.")


# --- Storyboard editions --------------------------------------------------------

# The HTML part of an edition styles itself inline, as e-mail must.
PREVIEW_CSP = {**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]}


class EditionItemInline(ChoosesByAutocomplete, admin.TabularInline):
    model = EditionItem
    extra = 0
    fields = ["position", "article", "blurb"]
    autocomplete_fields = ["article"]

    def _editable(self, obj):
        return obj is None or obj.status in EDITABLE_EDITION

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


EDITABLE_EDITION = (EditionStatus.DRAFT, EditionStatus.SCHEDULED)


@admin.register(Edition)
class EditionAdmin(admin.ModelAdmin):
    """Compose, preview, test and send Storyboard editions (briefings/storyboard.py).

    *Add edition* composes this week's draft (most-read, then latest stories);
    the editor reorders (positions), removes, adds blurbs and the intro.
    """

    list_display = [
        "number",
        "subject",
        "status",
        "send_at",
        "sent_count",
        "failed_count",
        "pending_count",
        "preview_link",
    ]
    list_filter = ["status"]
    inlines = [EditionItemInline]
    fields = [
        "number",
        "subject",
        "intro",
        "status",
        "send_at",
        "started_at",
        "sent_at",
        "delivery_counts",
        "preview_link",
    ]
    readonly_fields = [
        "number",
        "status",
        "started_at",
        "sent_at",
        "delivery_counts",
        "preview_link",
    ]
    actions = ["send_now", "schedule", "send_test_to_me"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                sent_total=Count(
                    "deliveries", filter=Q(deliveries__status=DeliveryStatus.SENT)
                ),
                failed_total=Count(
                    "deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)
                ),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status not in EDITABLE_EDITION:
            fields += ["subject", "intro", "send_at"]
        return fields

    @admin.display(description="Sent")
    def sent_count(self, obj):
        return obj.sent_total

    @admin.display(description="Failed")
    def failed_count(self, obj):
        return obj.failed_total

    @admin.display(description="Pending")
    def pending_count(self, obj):
        if obj.status != EditionStatus.SENDING:
            return 0 if obj.status == EditionStatus.SENT else "–"
        return storyboard.pending(obj).count()

    @admin.display(description="Deliveries")
    def delivery_counts(self, obj):
        if obj is None or obj.pk is None:
            return "–"
        done = storyboard.counts(obj)
        return (
            f"{done['sent']} sent, {done['failed']} failed, {done['pending']} pending"
        )

    @admin.display(description="Preview")
    def preview_link(self, obj):
        if obj is None or obj.pk is None:
            return "–"
        return format_html(
            '<a href="{}">Preview (HTML and plain text)</a>',
            reverse("admin:briefings_edition_preview", args=[obj.pk]),
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="briefings_edition_preview",
            ),
            path(
                "<int:pk>/preview/html/",
                self.admin_site.admin_view(self.preview_html_view),
                name="briefings_edition_preview_html",
            ),
            *super().get_urls(),
        ]

    def _edition_or_404(self, request, pk):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        edition = Edition.objects.filter(pk=pk).first()
        if edition is None:
            raise Http404("No such edition.")
        return edition

    def preview_view(self, request, pk):
        """The edition as a subscriber gets it: both parts, and the test button."""
        edition = self._edition_or_404(request, pk)
        if request.method == "POST":
            if not self.has_change_permission(request, edition):
                raise PermissionDenied
            self._send_test(request, [edition])
            return HttpResponseRedirect(request.path)
        html, text = storyboard.render(edition)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview: {edition}",
            "opts": self.model._meta,
            "edition": edition,
            "text": text.replace(
                storyboard.UNSUBSCRIBE_MARK, "(the subscriber's own unsubscribe link)"
            ),
            "html_url": reverse("admin:briefings_edition_preview_html", args=[pk]),
            "counts": storyboard.counts(edition),
            "can_send": self.has_change_permission(request, edition),
        }
        return render(request, "admin/briefings/edition/preview.html", context)

    @method_decorator(csp_override(PREVIEW_CSP))
    def preview_html_view(self, request, pk):
        """The HTML part alone, as a mail client shows it (its inline styles on)."""
        edition = self._edition_or_404(request, pk)
        html, _ = storyboard.render(edition)
        response = HttpResponse(html.replace(storyboard.UNSUBSCRIBE_MARK, "#"))
        response["X-Robots-Tag"] = "noindex"
        return response

    def add_view(self, request, form_url="", extra_context=None):
        """*Add edition*: a POST composes this week's draft and opens it."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            edition = storyboard.compose()
            self.message_user(
                request,
                f"Edition {edition.number} composed with {edition.items.count()} "
                "stories: reorder, remove, add blurbs and an intro, then preview.",
            )
            return HttpResponseRedirect(
                reverse("admin:briefings_edition_change", args=[edition.pk])
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "New Storyboard edition",
            "opts": self.model._meta,
            "next_send": storyboard.next_friday_morning(),
        }
        return render(request, "admin/briefings/edition/compose.html", context)

    def _queue(self, request, queryset, when_now):
        for edition in queryset:
            try:
                if when_now:
                    edition = storyboard.send_now(edition)
                else:
                    edition = storyboard.schedule(edition)
            except ValueError as error:
                self.message_user(request, str(error), messages.ERROR)
                continue
            self.message_user(
                request,
                f"Edition {edition.number} queued for "
                f"{timezone.localtime(edition.send_at):%a %d %b %Y, %H:%M}.",
            )

    @admin.action(description="Send the selected now", permissions=["change"])
    def send_now(self, request, queryset):
        self._queue(request, queryset, when_now=True)

    @admin.action(
        description="Schedule the selected (at their send time, or Friday 09:00)",
        permissions=["change"],
    )
    def schedule(self, request, queryset):
        self._queue(request, queryset, when_now=False)

    @admin.action(
        description="Send a test of the selected to me", permissions=["change"]
    )
    def send_test_to_me(self, request, queryset):
        self._send_test(request, queryset)

    def _send_test(self, request, editions):
        if not request.user.email:
            self.message_user(
                request,
                "Your user has no e-mail address: add one under Users first.",
                messages.ERROR,
            )
            return
        for edition in editions:
            storyboard.send_test.enqueue(edition.pk, request.user.email)
            self.message_user(
                request,
                f"A test of edition {edition.number} is on its way to "
                f"{request.user.email}.",
            )
