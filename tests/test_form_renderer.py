"""The form renderer (Django's widget templates through Jinja2) writes the
same HTML as Django's own renderer, escaped the same way: a form reads the
same to people and to the tests whichever engine drew it."""

import datetime

import pytest
from django import forms
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.renderers import DjangoTemplates
from django.test.html import parse_html

from briefings.web.renderers import FastFormRenderer

HOSTILE = "<script>alert('x')</script> \"quoted\" & more"


class EveryWidget(forms.Form):
    text = forms.CharField(help_text="Help with <b>markup</b> & 'quotes'")
    note = forms.CharField(widget=forms.Textarea)
    hidden = forms.CharField(widget=forms.HiddenInput)
    count = forms.IntegerField()
    kind = forms.ChoiceField(choices=[("a", "A & 'a'"), ("b", "<b>")])
    tags = forms.MultipleChoiceField(
        choices=[("x", "X's"), ("y", '"Y"')], widget=forms.CheckboxSelectMultiple
    )
    flag = forms.BooleanField(required=False)
    when = forms.SplitDateTimeField(widget=AdminSplitDateTime)
    upload = forms.FileField(required=False, widget=forms.ClearableFileInput)
    web = forms.URLField(required=False)


DATA = {
    "text": HOSTILE,
    "note": HOSTILE,
    "hidden": HOSTILE,
    "count": "not a number",
    "kind": "b",
    "tags": ["x", "y"],
    "flag": "on",
    "when_0": "2026-12-03",
    "when_1": "10:00",
    "web": "javascript:alert(1)",
}


@pytest.mark.parametrize("bound", [False, True], ids=["unbound", "with errors"])
def test_every_widget_is_drawn_as_django_draws_it(bound):
    def draw(renderer):
        form = (
            EveryWidget(
                DATA,
                {"upload": SimpleUploadedFile("a.txt", b"x")},
                renderer=renderer,
            )
            if bound
            else EveryWidget(
                initial={"text": HOSTILE, "when": datetime.datetime(2026, 1, 2)},
                renderer=renderer,
            )
        )
        return str(form) + str(form.non_field_errors()) + str(form["text"].errors)

    fast, django_own = draw(FastFormRenderer()), draw(DjangoTemplates())
    assert parse_html(fast) == parse_html(django_own)
    # Escaped as Django escapes (&#x27;, &quot;), never marked safe.
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in fast
    assert "&quot;quoted&quot;" in fast
    assert "<script>" not in fast


def test_the_site_draws_its_forms_with_it():
    form = forms.Form()
    assert isinstance(form.renderer, FastFormRenderer)
