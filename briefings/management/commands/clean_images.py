"""manage.py clean_images: bring pictures stored before renditions up to date.

Each figure with an image but no renditions is processed as a new upload would
be: checked, re-encoded without EXIF or GPS, cut to its widths; the old file is
deleted once the new one is saved. Pictures already done are left alone, so the
command can run any number of times.
"""

import posixpath

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from briefings.stories.models import Figure


class Command(BaseCommand):
    help = "Strip metadata from and make renditions of pictures stored without them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List the pictures, change nothing."
        )

    def handle(self, *args, dry_run, **options):
        pending = list(Figure.objects.exclude(image="").filter(renditions=[]))
        done = failed = 0
        for figure in pending:
            name = figure.image.name
            if dry_run:
                self.stdout.write(f"would clean {name} (figure {figure.pk})")
                continue
            try:
                with figure.image.storage.open(name) as file:
                    content = file.read()
                figure.image = ContentFile(content, name=posixpath.basename(name))
                with transaction.atomic():
                    figure.save()
            except (OSError, ValidationError) as error:
                failed += 1
                message = getattr(error, "messages", [str(error)])[0]
                self.stderr.write(f"failed {name} (figure {figure.pk}): {message}")
                continue
            done += 1
            if options["verbosity"] > 1:
                self.stdout.write(f"cleaned {name} -> {figure.image.name}")
        if dry_run:
            self.stdout.write(f"{len(pending)} picture(s) to clean.")
            return
        self.stdout.write(
            self.style.SUCCESS(f"Cleaned {done} picture(s); {failed} failed.")
        )
        if failed:
            raise CommandError(f"{failed} of {len(pending)} picture(s) failed.")
