"""manage.py prune_newsletter: forget addresses whose owner never confirmed."""

from django.core.management.base import BaseCommand

from briefings.newsletter.subscribers import Subscriber


class Command(BaseCommand):
    help = (
        "Delete newsletter sign-ups still unconfirmed once their confirmation "
        "link has expired (NEWSLETTER_CONFIRM_DAYS)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count, delete nothing."
        )

    def handle(self, *args, dry_run, **options):
        stale = Subscriber.objects.never_confirmed()
        if dry_run:
            self.stdout.write(f"{stale.count()} unconfirmed sign-up(s) to delete.")
            return
        count, _ = stale.delete()
        self.stdout.write(
            self.style.SUCCESS(f"Deleted {count} unconfirmed sign-up(s).")
        )
