"""The form renderer: Django's own widget and form templates through Jinja2.

Django ships every template of `django/forms/` twice, for its template
language and for Jinja2, and renders the same HTML from both; Jinja2 compiles
them to Python and renders them several times faster. A story's change page
renders some 600 of these small templates (an input, its attributes, a label,
per field of the story and of each inline row), which made up a third of its
time. Templates that exist only for Django's language (the admin's widgets,
ours) are rendered by Django's engine as before.

Every value is escaped by Django's `conditional_escape` (`&#x27;`, `&quot;`),
so a page reads the same whichever engine wrote a part of it.
"""

from pathlib import Path

import django.forms
from django.forms.renderers import BaseRenderer, DjangoTemplates
from django.template import TemplateDoesNotExist
from django.template.backends.jinja2 import Jinja2
from django.utils.functional import cached_property
from django.utils.html import conditional_escape
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
