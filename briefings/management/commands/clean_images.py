"""manage.py clean_images: bring pictures stored before renditions up to date.

Each library picture with a file but no renditions is processed as a new
upload would be: checked, re-encoded without EXIF or GPS, cut to its widths
and crops; the old file is deleted once the new one is saved. Pictures already
done (or waiting for the worker) are left alone, so the command can run any
number of times.
"""

import posixpath

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from briefings.stories.library import Image


class Command(BaseCommand):
    help = "Strip metadata from and make renditions of pictures stored without them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List the pictures, change nothing."
        )

    def handle(self, *args, dry_run, **options):
        pending = list(
            Image.objects.exclude(file="").filter(renditions=[], pending_file="")
        )
        done = failed = 0
        for image in pending:
            name = image.file.name
            if dry_run:
                self.stdout.write(f"would clean {name} (picture {image.pk})")
                continue
            try:
                with image.file.storage.open(name) as file:
                    content = file.read()
                image.file = ContentFile(content, name=posixpath.basename(name))
                with transaction.atomic():
                    image.save()
            except (OSError, ValidationError) as error:
                failed += 1
                message = getattr(error, "messages", [str(error)])[0]
                self.stderr.write(f"failed {name} (picture {image.pk}): {message}")
                continue
            done += 1
            if options["verbosity"] > 1:
                self.stdout.write(f"cleaned {name} -> {image.file.name}")
        if dry_run:
            self.stdout.write(f"{len(pending)} picture(s) to clean.")
            return
        self.stdout.write(
            self.style.SUCCESS(f"Cleaned {done} picture(s); {failed} failed.")
        )
        if failed:
            raise CommandError(f"{failed} of {len(pending)} picture(s) failed.")
