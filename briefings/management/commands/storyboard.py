"""manage.py storyboard compose | send N [--now] | status N."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from briefings.newsletter import storyboard
from briefings.newsletter.editions import Edition


class Command(BaseCommand):
    help = (
        "Storyboard editions: `compose` makes this week's draft and prints its "
        "number; `send N [--now]` queues edition N (for its send time, default "
        "Friday 09:00; the worker sends it); `status N` prints its counts."
    )

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        commands.add_parser("compose", help="Make this week's draft edition.")
        send = commands.add_parser("send", help="Queue edition N for sending.")
        send.add_argument("number", type=int)
        send.add_argument(
            "--now", action="store_true", help="Send at once, not at its send time."
        )
        status = commands.add_parser("status", help="Sent, failed and pending.")
        status.add_argument("number", type=int)

    def handle(self, *args, action, **options):
        if action == "compose":
            edition = storyboard.compose()
            self.stdout.write(str(edition.number))
            return
        edition = Edition.objects.filter(number=options["number"]).first()
        if edition is None:
            raise CommandError(f"There is no edition {options['number']}.")
        if action == "send":
            try:
                if options["now"]:
                    edition = storyboard.send_now(edition)
                else:
                    edition = storyboard.schedule(edition)
            except ValueError as error:
                raise CommandError(str(error)) from None
            when = timezone.localtime(edition.send_at)
            self.stdout.write(
                f"Edition {edition.number} queued for {when:%a %d %b %Y %H:%M %Z}."
            )
            return
        edition.refresh_from_db()
        counts = storyboard.counts(edition)
        self.stdout.write(
            f"Edition {edition.number} ({edition.status}): {counts['sent']} sent, "
            f"{counts['failed']} failed, {counts['pending']} pending"
        )
