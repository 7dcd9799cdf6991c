"""manage.py demo: a Writer and an Editor to try the roles with (development only)."""

import secrets

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

DEMO_USERS = [("demo-writer", "Writers"), ("demo-editor", "Editors")]


class Command(BaseCommand):
    help = (
        "Create (or reset) the users demo-writer (Writers) and demo-editor (Editors) "
        "with new random passwords, and print them. Development only: refuses "
        "when DJANGO_DEBUG is off."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "demo creates users with printed passwords: development only. "
                "It refuses when DJANGO_DEBUG is off (make demo sets it)."
            )
        with transaction.atomic():
            logins = [self._demo_user(name, group) for name, group in DEMO_USERS]
        admin_url = f"{settings.SITE_URL}/{settings.ADMIN_URL}"
        self.stdout.write(f"Sign in at {admin_url} as:")
        for username, group, password in logins:
            self.stdout.write(f"  {username:<12} password {password}  ({group})")

    def _demo_user(self, username, group_name):
        try:
            group = Group.objects.get(name=group_name)
        except Group.DoesNotExist:
            raise CommandError(
                f"The group {group_name!r} is missing: run manage.py migrate first."
            ) from None
        user, _ = User.objects.get_or_create(username=username)
        password = secrets.token_urlsafe(12)
        user.set_password(password)
        user.is_staff = True
        user.is_active = True
        user.is_superuser = False  # the role alone, as a newsroom would have it
        user.save()
        user.groups.set([group])
        return username, group_name, password
