"""What the newsroom's admins share: capped counts, CSV downloads, error lists,
autocomplete boxes."""

import csv

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.paginator import Paginator
from django.forms.utils import ErrorList
from django.http import HttpResponse
from django.utils.functional import cached_property

#: Rows the admin's lists count at most: beyond it they say "10,000" and page
#: no further (a count of a million stories, or of every story holding a
#: common word, is most of a second).
COUNT_LIMIT = 10_000


class CappedPaginator(Paginator):
    """Counts at most COUNT_LIMIT rows (SELECT COUNT(*) over a LIMITed subquery)."""

    @cached_property
    def count(self):
        return self.object_list.order_by()[:COUNT_LIMIT].count()


def csv_safe(value) -> str:
    """A cell no spreadsheet will run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def csv_download(filename, header, rows) -> HttpResponse:
    """A CSV attachment of `header` and `rows`, every cell formula-safe."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([csv_safe(value) for value in header])
    writer.writerows([csv_safe(value) for value in row] for row in rows)
    return response


class FieldErrors(ErrorList):
    """A field's errors, rendered through the usual templates when there are
    any; an empty list is the empty string without a template. (The story
    page asks every field and inline row for its errors: some 150 templates
    rendered to nothing on each visit.)"""

    def render(self, template_name=None, context=None, renderer=None):
        if not self.data:
            return ""  # nothing to escape, nothing marked safe
        return super().render(template_name, context, renderer)


class AutocompleteChoice(AutocompleteSelect):
    """Django's autocomplete box, which looks up the chosen row to show its
    name: here without a query when the row is at hand (`known`, {pk: row},
    given by the form that holds it) or when nothing is chosen."""

    known = {}

    def build_attrs(self, base_attrs, extra_attrs=None):
        # select2 names its combobox by the text shown in it; with Django's
        # empty placeholder an unchosen box had no accessible name at all.
        attrs = super().build_attrs(base_attrs, extra_attrs=extra_attrs)
        name = str(self.field.verbose_name)
        article = "an" if name[:1].lower() in "aeiou" else "a"
        attrs["data-placeholder"] = f"Choose {article} {name}"
        return attrs

    @property
    def media(self):
        # Names the box while it is empty (select2 leaves it unnamed).
        return super().media + forms.Media(js=["admin/autocomplete_names.js"])

    def optgroups(self, name, value, attr=None):
        chosen = {
            str(v) for v in value if str(v) not in self.choices.field.empty_values
        }
        row = self.known.get(next(iter(chosen))) if len(chosen) == 1 else None
        if self.allow_multiple_selected or (chosen and row is None):
            return super().optgroups(name, value, attr)
        options = (
            [] if self.is_required else [self.create_option(name, "", "", False, 0)]
        )
        if row is not None:
            label = self.choices.field.label_from_instance(row)
            options.append(
                self.create_option(name, row.pk, label, chosen, len(options))
            )
        return [(None, options, 0)]


class ChoosesByAutocomplete:
    """An admin whose autocomplete fields use `AutocompleteChoice`."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs.setdefault(
                "widget",
                AutocompleteChoice(
                    db_field, self.admin_site, using=kwargs.get("using")
                ),
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
