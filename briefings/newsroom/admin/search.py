"""Search Trends in the admin: terms, counts, hiding and showing."""

from django.contrib import admin
from django.db.models import Q, Sum

from briefings.search.engine import (
    SEARCH_HISTORY_DAYS,
    TRENDS_DAYS,
    forget_trends,
    trends_since,
)
from briefings.search.models import SearchTerm


@admin.register(SearchTerm)
class SearchTermAdmin(admin.ModelAdmin):
    """What readers search for. Hide a term to keep it out of Search Trends;
    with BRIEFINGS_TRENDS_REQUIRE_APPROVAL on, approve one to let it in."""

    list_display = ["term", "recent_searches", "recent_readers", "hidden", "approved"]
    list_editable = ["hidden", "approved"]
    list_filter = ["hidden", "approved"]
    search_fields = ["term"]
    fields = [
        "term",
        "hidden",
        "approved",
        "recent_searches",
        "recent_readers",
        "all_searches",
        "created_at",
    ]
    readonly_fields = [
        "term",
        "recent_searches",
        "recent_readers",
        "all_searches",
        "created_at",
    ]
    actions = ["hide", "show", "approve", "unapprove"]

    def get_queryset(self, request):
        recent = Q(days__day__gte=trends_since())
        return (
            super()
            .get_queryset(request)
            .annotate(
                recent=Sum("days__searches", filter=recent),
                recent_reader_days=Sum("days__readers", filter=recent),
                total=Sum("days__searches"),
            )
        )

    def has_add_permission(self, request):
        return False  # terms come from readers' searches

    @admin.display(description=f"Searches, last {TRENDS_DAYS} days", ordering="-recent")
    def recent_searches(self, obj):
        return obj.recent or 0

    @admin.display(
        description=f"Readers a day, summed over {TRENDS_DAYS} days",
        ordering="-recent_reader_days",
    )
    def recent_readers(self, obj):
        return obj.recent_reader_days or 0

    @admin.display(
        description=f"Searches, last {SEARCH_HISTORY_DAYS} days", ordering="-total"
    )
    def all_searches(self, obj):
        return obj.total or 0

    @admin.action(description="Hide from Search Trends", permissions=["change"])
    def hide(self, request, queryset):
        self._set(queryset, hidden=True)

    @admin.action(description="Show in Search Trends", permissions=["change"])
    def show(self, request, queryset):
        self._set(queryset, hidden=False)

    @admin.action(description="Approve for Search Trends", permissions=["change"])
    def approve(self, request, queryset):
        self._set(queryset, approved=True)

    @admin.action(description="Withdraw approval", permissions=["change"])
    def unapprove(self, request, queryset):
        self._set(queryset, approved=False)

    @staticmethod
    def _set(queryset, **values):
        """One UPDATE, then the trends box (and the pages showing it) once."""
        chosen = list(queryset.values_list("pk", flat=True))
        SearchTerm.objects.filter(pk__in=chosen).update(**values)
        forget_trends()
