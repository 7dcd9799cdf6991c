from django.contrib import admin
from django.utils.html import format_html

from .models import Article, Author, Byline, Figure, RelatedLink


class BylineInline(admin.TabularInline):
    model = Byline
    extra = 0
    autocomplete_fields = ["author"]


class FigureInline(admin.StackedInline):
    model = Figure
    extra = 0
    fields = [("place", "position"), "caption", "credit", "image", "alt_text"]


class RelatedLinkInline(admin.TabularInline):
    model = RelatedLink
    fk_name = "article"
    extra = 0
    fields = ["position", "title", "url", "story"]
    autocomplete_fields = ["story"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = [
        "headline",
        "status_badge",
        "author_names",
        "published_at",
        "updated_at",
    ]
    list_filter = ["status", "published_at"]
    search_fields = ["headline", "standfirst", "body", "figures__caption"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["headline"]}
    inlines = [BylineInline, FigureInline, RelatedLinkInline]
    readonly_fields = ["source_name", "imported_at", "edited_at", "created_at"]
    fieldsets = [
        (
            None,
            {"fields": ["headline", "slug", "standfirst", "dateline", "body", "tags"]},
        ),
        ("Publishing", {"fields": ["status", "published_at", "updated_at"]}),
        (
            "Record",
            {
                "classes": ["collapse"],
                "fields": ["source_name", "imported_at", "created_at", "edited_at"],
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("bylines__author")

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return format_html(
            '<span class="badge badge--{}">{}</span>',
            obj.status,
            obj.get_status_display(),
        )

    @admin.display(description="Authors")
    def author_names(self, obj):
        return ", ".join(author.name for author in obj.byline_authors)


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
