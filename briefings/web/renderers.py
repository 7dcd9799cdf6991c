"""The form renderer: Django's own widget and form templates through Jinja2.

Django ships every template of `django/forms/` twice, for its template
language and for Jinja2, and renders the same HTML from both; Jinja2 compiles
them to Python and renders them several times faster. A story's change page
renders some 600 of these small templates (an input, its attributes, a label,
per field of the story and of each inline row), which made up a third of its
time. Templates that exist only for Django's language (most of the admin's
widgets, ours) are rendered by Django's engine as before.

The admin's four busiest templates (a fieldset, a tabular and a stacked
inline, the related-object widget's wrapper) are rendered by Jinja2 too
(`admin_backend`): ports of Django's own, line for line, in `jinja2/admin/`.
The wrapper is picked by this renderer; the other three are reached through
the templates of the same names in `templates/admin/`, which hand over to
them (`{% jinja_admin %}`, briefings.templatetags.fastadmin).
tests/test_admin_jinja.py checks that every admin page comes out byte for
byte as from Django's originals (USE_ADMIN_PORTS = False).

Every value is escaped by Django's `conditional_escape` (`&#x27;`, `&quot;`),
so a page reads the same whichever engine wrote a part of it.
"""

import html
from functools import cache
from pathlib import Path

import django.forms
from django.contrib.admin.templatetags.admin_modify import cell_count
from django.contrib.admin.templatetags.admin_urls import admin_urlname, admin_urlquote
from django.forms.renderers import BaseRenderer, DjangoTemplates
from django.template import TemplateDoesNotExist, defaultfilters
from django.template.backends.jinja2 import Jinja2
from django.templatetags.static import static
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import conditional_escape, strip_spaces_between_tags
from django.utils.translation import gettext
from jinja2 import ChainableUndefined, pass_context
from markupsafe import Markup

FAST_PREFIX = "django/forms/"
FORMS_JINJA = Path(django.forms.__file__).parent / "jinja2"
# The admin's widget templates ported to Jinja2 (jinja2/admin/widgets/): only
# those that include no other template (Django's and Jinja2's versions of
# the form templates differ in their final newlines, which would show).
ADMIN_WIDGETS = {"admin/widgets/related_widget_wrapper.html"}
# False: Django's own admin templates instead of the ports (tests compare them).
USE_ADMIN_PORTS = True


def escape_as_django(value):
    """conditional_escape, without its lazy-string wrapper on plain text."""
    if type(value) is str:
        return Markup(html.escape(value))
    return Markup(conditional_escape(value))


class FastFormRenderer(BaseRenderer):
    def __init__(self):
        self.django = DjangoTemplates()

    @cached_property
    def jinja(self):
        return Jinja2(
            {
                "APP_DIRS": False,
                "DIRS": [FORMS_JINJA],
                "NAME": "djangoforms-jinja2",
                "OPTIONS": {"finalize": escape_as_django},
            }
        )

    def get_template(self, template_name):
        if template_name in ADMIN_WIDGETS and USE_ADMIN_PORTS:
            return admin_backend().get_template(template_name)
        if template_name.startswith(FAST_PREFIX):
            try:
                return self.jinja.get_template(template_name)
            except TemplateDoesNotExist:
                pass
        return self.django.get_template(template_name)


# --- The admin's fieldsets and inlines ------------------------------------------


@pass_context
def change_url(context, inline_admin_form):
    """{% url opts|admin_urlname:'change' original.pk|admin_urlquote %}"""
    request = context.get("request")
    current_app = getattr(request, "current_app", None)
    if current_app is None and getattr(request, "resolver_match", None):
        current_app = request.resolver_match.namespace
    return reverse(
        admin_urlname(inline_admin_form.model_admin.opts, "change"),
        args=[admin_urlquote(inline_admin_form.original.pk)],
        current_app=current_app,
    )


def blocktranslate(message, **values):
    """{% blocktranslate %}: the translated text, with its values escaped."""
    return Markup(
        gettext(message) % {k: conditional_escape(v) for k, v in values.items()}
    )


def spaceless(rendered):
    """{% spaceless %}"""
    return Markup(strip_spaces_between_tags(str(rendered).strip()))


@cache
def admin_backend():
    """Jinja2 for the ports of Django's admin templates in jinja2/admin/.

    Like Django's language: an unknown name or attribute is empty (never an
    error), every value is escaped with conditional_escape, and Django's own
    filters do the filtering.
    """
    backend = Jinja2(
        {
            "APP_DIRS": False,
            "DIRS": [Path(__file__).parent / "jinja2", FORMS_JINJA],
            "NAME": "briefings-admin-jinja2",
            "OPTIONS": {
                "finalize": escape_as_django,
                "undefined": ChainableUndefined,
            },
        }
    )
    env = backend.env
    env.filters.update(
        capfirst=defaultfilters.capfirst,
        striptags=defaultfilters.striptags,
        yesno=defaultfilters.yesno,
        cell_count=cell_count,
        spaceless=spaceless,
    )
    env.globals.update(
        static=static,
        translate=gettext,
        blocktranslate=blocktranslate,
        change_url=change_url,
    )
    return backend


def admin_template(name):
    return admin_backend().env.get_template(name)
