"""manage.py sync_roles: give the Writers and Editors groups exactly their ROLES."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from briefings.newsroom.roles import sync_roles


class Command(BaseCommand):
    help = (
        "Make the Writers and Editors groups have exactly the permissions declared "
        "in briefings/newsroom/roles.py (ROLES): add what is missing, remove what "
        "is not declared (grants given by hand to these two groups go). `migrate` "
        "does this too. Other groups are untouched."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing; list the differences and exit 1 if there are any.",
        )
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help='The database to sync (default: "default").',
        )

    def handle(self, *args, check, database, **options):
        changes = sync_roles(using=database, dry_run=check)
        for change in changes:
            self.stdout.write(change)
        if check:
            if changes:
                raise CommandError(
                    f"The roles in the database differ from roles.py "
                    f"({len(changes)} difference(s)); run manage.py sync_roles.",
                    returncode=1,
                )
            self.stdout.write("The roles in the database match roles.py.")
            return
        if changes:
            self.stdout.write(self.style.SUCCESS(f"{len(changes)} change(s) made."))
        else:
            self.stdout.write("The roles already matched roles.py; nothing changed.")
