"""Storyboard through a real worker process and a real SMTP server on loopback:
the worker is killed (SIGKILL) half-way through an edition to 1,000 confirmed
subscribers and started again, and every subscriber has exactly one message,
with their own unsubscribe link.

Runs real processes against a database of their own: a SQLite file, or a
scratch PostgreSQL database when the suite runs on PostgreSQL.
"""

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter

from django.conf import settings
from django.core import signing

from briefings.newsletter.subscribers import UNSUBSCRIBE_SALT
from tests.smtpsink import SMTPSink
from tests.test_loadseed_race import scratch_database

SUBSCRIBERS = 1000
SECRET = "storyboard-worker-test-" + "x" * 40

SETUP = f"""
from django.utils import timezone
from briefings.newsletter import storyboard
from briefings.models import Subscriber
from tests.factories import ArticleFactory, SubscriberFactory
ArticleFactory.create_batch(3, published=True)
Subscriber.objects.bulk_create(
    SubscriberFactory.build(email=f"reader{{n}}@example.com")
    for n in range({SUBSCRIBERS})
)
SubscriberFactory(email="gone@example.com", status="unsubscribed")
SubscriberFactory(email="later@example.com", status="pending")
edition = storyboard.compose()
storyboard.send_now(edition)
print(edition.number)
"""


def environment(url, sink):
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SECRET_KEY": SECRET,
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_DEBUG": "0",
        "BRIEFINGS_TASKS_BACKEND": "database",
        "DJANGO_EMAIL_HOST": "127.0.0.1",
        "DJANGO_EMAIL_PORT": str(sink.port),
        "DJANGO_EMAIL_USE_TLS": "0",
        "STORYBOARD_BATCH_SIZE": "100",
        "STORYBOARD_WATCH_SECONDS": "1",
        "STORYBOARD_STALL_SECONDS": "3",
        "DJANGO_LOG_LEVEL": "WARNING",
    }


def manage(env, *args, **kwargs):
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def worker(env):
    return manage(
        env, "db_worker", "--interval", "0.1", "--no-startup-delay", "--no-reload"
    )


def test_a_worker_killed_half_way_sends_nobody_the_edition_twice(tmp_path):
    with SMTPSink() as sink, scratch_database(tmp_path) as (url, count):
        env = environment(url, sink)
        migrate = manage(env, "migrate", "--no-input", "-v0")
        assert migrate.wait(timeout=120) == 0, migrate.stderr.read()
        setup = manage(env, "shell", "-c", SETUP)
        out, err = setup.communicate(timeout=60)
        assert setup.returncode == 0, err
        number = int(out.split()[-1])

        first = worker(env)
        deadline = time.monotonic() + 40
        while sink.count() < SUBSCRIBERS // 2:
            assert first.poll() is None, first.stderr.read()
            assert time.monotonic() < deadline, "the worker sends too slowly"
            time.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = sink.count()
        assert killed_at < SUBSCRIBERS  # killed half-way, not at the end

        second = worker(env)
        try:
            deadline = time.monotonic() + 40
            sent = (
                "SELECT COUNT(*) FROM briefings_edition "
                f"WHERE number = {number} AND status = 'sent'"
            )
            while count(sent) != 1:
                assert second.poll() is None, second.stderr.read()
                assert time.monotonic() < deadline, (sink.count(), killed_at)
                time.sleep(0.1)
        finally:
            second.terminate()
            second.wait(timeout=10)

        status = manage(env, "storyboard", "status", str(number))
        out, _ = status.communicate(timeout=60)
        assert f"{SUBSCRIBERS} sent, 0 failed, 0 pending" in out

    messages = sink.parsed()
    recipients = Counter(rcpt for rcpts, _ in messages for rcpt in rcpts)
    expected = {f"reader{n}@example.com" for n in range(SUBSCRIBERS)}
    assert set(recipients) == expected  # nobody unsubscribed or unconfirmed
    assert set(recipients.values()) == {1}  # each exactly once
    signer = signing.Signer(key=SECRET, salt=UNSUBSCRIBE_SALT)
    for [recipient], message in messages:
        link = message["List-Unsubscribe"].strip("<>")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert link in text and link in html
        token = re.search(r"/newsletter/unsubscribe/([^/]+)/", link).group(1)
        _, digest = signer.unsign(token).split(".")
        assert digest == hashlib.sha256(recipient.encode()).hexdigest()[:12]
