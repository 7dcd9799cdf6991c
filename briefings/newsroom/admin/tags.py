"""Tags in the admin: aliases, redirects, merging."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import render
from taggit.models import Tag

from briefings.stories import tags
from briefings.stories.models import (
    TagAlias,
    TagRedirect,
)


class TagAliasInline(admin.TabularInline):
    model = TagAlias
    extra = 1
    fields = ["name"]
    verbose_name_plural = (
        "Aliases (other spellings: typed in a story, they become this tag)"
    )


class TagRedirectInline(admin.TabularInline):
    model = TagRedirect
    extra = 0
    fields = ["old_slug"]
    readonly_fields = ["old_slug"]
    can_delete = False
    verbose_name_plural = "Old addresses (merged tags; they redirect here)"

    def has_add_permission(self, request, obj=None):
        return False


class MergeTagsForm(forms.Form):
    target = forms.ModelChoiceField(
        queryset=Tag.objects.order_by("name"),
        label="Merge into",
        help_text="The tag that stays. The others are deleted; their stories get "
        "this tag, their names become its aliases and their pages redirect here.",
    )


if admin.site.is_registered(Tag):
    admin.site.unregister(Tag)


@admin.register(Tag)
class BriefingsTagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "live_stories", "stories", "alias_names"]
    search_fields = ["name", "aliases__name"]
    ordering = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TagAliasInline, TagRedirectInline]
    actions = ["merge_tags", "delete_unused"]

    def get_queryset(self, request):
        return tags.with_usage().prefetch_related("aliases")

    @admin.display(description="Published stories", ordering="live_stories")
    def live_stories(self, obj):
        return obj.live_stories

    @admin.display(description="All stories", ordering="stories")
    def stories(self, obj):
        return obj.stories

    @admin.display(description="Aliases")
    def alias_names(self, obj):
        return ", ".join(alias.name for alias in obj.aliases.all())

    @admin.action(description="Merge selected tags into one…", permissions=["delete"])
    def merge_tags(self, request, queryset):
        chosen = list(queryset.order_by("name"))
        if "apply" in request.POST:
            form = MergeTagsForm(request.POST)
            if form.is_valid():
                target = form.cleaned_data["target"]
                retagged = tags.merge(chosen, target)
                self.message_user(
                    request,
                    f"Merged {len([t for t in chosen if t.pk != target.pk])} tag(s) "
                    f"into “{target}”; {retagged} stories retagged.",
                    messages.SUCCESS,
                )
                return None
        else:
            # The tag most stories use is the likely survivor (live ones first).
            busiest = max(
                chosen, key=lambda t: (t.live_stories, t.stories), default=None
            )
            form = MergeTagsForm(initial={"target": busiest.pk if busiest else None})
            form.fields["target"].queryset = queryset.order_by("name")
        context = {
            **self.admin_site.each_context(request),
            "title": "Merge tags",
            "opts": self.model._meta,
            "tags": chosen,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return render(request, "admin/taggit/tag/merge.html", context)

    @admin.action(description="Delete tags no story uses", permissions=["delete"])
    def delete_unused(self, request, queryset):
        unused = queryset.filter(pk__in=tags.unused().values("pk"))
        names = sorted(tag.name for tag in unused)
        count, _ = unused.delete()
        skipped = queryset.count()
        self.message_user(
            request,
            f"Deleted {len(names)} unused tag(s)"
            + (f": {', '.join(names)}" if names else "")
            + (f". {skipped} tag(s) in use were kept." if skipped else "."),
            messages.SUCCESS,
        )


# --- Storyboard newsletter -----------------------------------------------------
