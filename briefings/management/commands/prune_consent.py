"""manage.py prune_consent: delete consent records past their retention period."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from briefings.consent.models import ConsentRecord


class Command(BaseCommand):
    help = (
        "Delete consent records older than CONSENT_RECORD_RETENTION_DAYS (or --days)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=settings.CONSENT_RECORD_RETENTION_DAYS,
            help="Keep records this many days (default: the setting).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count, delete nothing."
        )

    def handle(self, *args, days, dry_run, **options):
        cutoff = timezone.now() - timedelta(days=days)
        old = ConsentRecord.objects.filter(given_at__lt=cutoff)
        if dry_run:
            count = old.count()
            self.stdout.write(f"{count} consent record(s) older than {days} days.")
            return
        count, _ = old.delete()
        self.stdout.write(
            self.style.SUCCESS(
                f"Deleted {count} consent record(s) older than {days} days."
            )
        )
