"""The form renderer: Django's own widget and form templates through Jinja2.

Django ships every template of `django/forms/` twice, for its template
language and for Jinja2, and renders the same HTML from both; Jinja2 compiles
them to Python and renders them several times faster. A story's change page
renders some 600 of these small templates (an input, its attributes, a label,
per field of the story and of each inline row), which made up a third of its
time. Templates that exist only for Django's language (the admin's widgets,
ours) are rendered by Django's engine as before.

The admin's three busiest templates (a fieldset, a tabular and a stacked
inline) are rendered the same way (`admin_template`): ports of Django's own,
line for line, in `jinja2/admin/`, which the templates of the same names in
`templates/admin/` hand over to (`{% jinja_admin %}`, briefings.templatetags.
fastadmin). tests/test_admin_jinja.py checks that the admin's pages come out
byte for byte the same as from Django's originals.

Every value is escaped by Django's `conditional_escape` (`&#x27;`, `&quot;`),
so a page reads the same whichever engine wrote a part of it.
"""

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
from django.utils.html import conditional_escape
from django.utils.translation import gettext
from jinja2 import ChainableUndefined, pass_context
from markupsafe import Markup

FAST_PREFIX = "django/forms/"


def escape_as_django(value):
    return Markup(conditional_escape(value))


class FastFormRenderer(BaseRenderer):
    def __init__(self):
        self.django = DjangoTemplates()

    @cached_property
    def jinja(self):
        return Jinja2(
            {
                "APP_DIRS": False,
                "DIRS": [Path(django.forms.__file__).parent / "jinja2"],
                "NAME": "djangoforms-jinja2",
                "OPTIONS": {"finalize": escape_as_django},
            }
        )

    def get_template(self, template_name):
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


@cache
def admin_environment():
    """Jinja2 for the ports of Django's admin templates in jinja2/admin/.

    Like Django's language: an unknown name or attribute is empty (never an
    error), every value is escaped with conditional_escape, and Django's own
    filters do the filtering.
    """
    backend = Jinja2(
        {
            "APP_DIRS": False,
            "DIRS": [Path(__file__).parent / "jinja2"],
            "NAME": "briefings-admin-jinja2",
            "OPTIONS": {
                "finalize": escape_as_django,
                "undefined": ChainableUndefined,
                "keep_trailing_newline": True,
            },
        }
    )
    env = backend.env
    env.filters.update(
        capfirst=defaultfilters.capfirst,
        striptags=defaultfilters.striptags,
        yesno=defaultfilters.yesno,
        cell_count=cell_count,
    )
    env.globals.update(static=static, translate=gettext, change_url=change_url)
    return env


def admin_template(name):
    return admin_environment().get_template(name)
