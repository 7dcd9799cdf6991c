"""What a developer trying the project meets first: demo users, the README's claims."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)


def test_demo_creates_a_writer_and_an_editor_who_can_sign_in(client, settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("demo", stdout=out)
    printed = re.findall(r"^\s+(demo-\w+)\s+password (\S+)", out.getvalue(), re.M)
    passwords = dict(printed)
    assert set(passwords) == {"demo-writer", "demo-editor"}
    writer = User.objects.get(username="demo-writer")
    assert writer.is_staff and not writer.is_superuser
    assert [g.name for g in writer.groups.all()] == ["Writers"]
    editor = User.objects.get(username="demo-editor")
    assert editor.has_perm("briefings.publish_article")
    assert not writer.has_perm("briefings.publish_article")
    assert editor.check_password(passwords["demo-editor"])
    assert writer.check_password(passwords["demo-writer"])
    client.force_login(writer)
    assert client.get(reverse("admin:index")).status_code == 200
    # Run again: new passwords, still two users.
    call_command("demo", stdout=StringIO())
    assert User.objects.filter(username__startswith="demo-").count() == 2


def test_demo_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development only"):
        call_command("demo", stdout=StringIO())
    assert not User.objects.exists()


def test_the_readme_names_every_module_that_marks_html_safe():
    """The README's list of code that calls mark_safe is the whole list."""
    marking = sorted(
        path.name
        for path in (ROOT / "briefings").rglob("*.py")
        if "mark_safe(" in path.read_text()
    )
    readme = (ROOT / "README.md").read_text()
    claim = re.search(
        r"Only these modules mark HTML safe:(.*?)nothing else", readme, re.S
    )
    assert claim, "the README's sentence on mark_safe is missing"
    named = sorted(re.findall(r"`(\w+\.py)`", claim.group(1)))
    assert named == marking
