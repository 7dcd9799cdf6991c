"""Cookie consent in the admin: declared cookies and proof records."""

from cookie_consent.admin import CookieAdmin
from cookie_consent.models import Cookie
from django.contrib import admin

from briefings.consent.models import ConsentRecord, CookieDeclaration
from briefings.newsroom.admin.common import csv_download


class CookieDeclarationInline(admin.StackedInline):
    model = CookieDeclaration
    can_delete = False
    min_num = 1
    max_num = 1


admin.site.unregister(Cookie)


@admin.register(Cookie)
class DeclaredCookieAdmin(CookieAdmin):
    """The package's cookie admin, plus what readers are told about each cookie."""

    inlines = [CookieDeclarationInline]


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    """Proof of consent: read-only, exportable, never edited by hand."""

    list_display = ["given_at", "consent_id", "method", "policy_revision", "accepted"]
    list_filter = ["method", "policy_revision", "given_at"]
    date_hierarchy = "given_at"
    search_fields = ["consent_id__exact"]
    actions = ["export_csv"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # `manage.py prune_consent` deletes by the retention rule

    @admin.display(description="Accepted groups")
    def accepted(self, obj):
        return ", ".join(obj.accepted_groups) or "none"

    @admin.action(
        description="Export the selected records as CSV", permissions=["view"]
    )
    def export_csv(self, request, queryset):
        groups = sorted({g for r in queryset for g in r.decisions})
        header = (
            ["consent_id", "given_at", "method", "policy_revision"]
            + [f"{g} accepted" for g in groups]
            + [f"{g} version" for g in groups]
        )
        rows = (
            [r.consent_id, r.given_at.isoformat(), r.method, r.policy_revision]
            + [r.decisions.get(g, {}).get("accepted") for g in groups]
            + [r.decisions.get(g, {}).get("version") for g in groups]
            for r in queryset.order_by("given_at")
        )
        return csv_download("consent-records.csv", header, rows)


# --- Tags: usage, aliases, merging, pruning ------------------------------------
