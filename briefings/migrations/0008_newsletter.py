"""The Storyboard newsletter's subscribers; Editors may view (and export) them."""

import django.db.models.functions.text
import django.utils.timezone
from django.db import migrations, models

from ._groups import GroupGrants

GRANTS = GroupGrants({"Editors": ["view_subscriber"]})
assign_permissions = GRANTS.assign


class Migration(migrations.Migration):
    dependencies = [
        ("briefings", "0007_search"),
    ]

    operations = [
        migrations.CreateModel(
            name="Subscriber",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("email", models.EmailField(max_length=254)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting for confirmation"),
                            ("confirmed", "Confirmed"),
                            ("unsubscribed", "Unsubscribed"),
                        ],
                        default="pending",
                        max_length=20,
                    ),
                ),
                (
                    "created",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False
                    ),
                ),
                ("confirmed_at", models.DateTimeField(blank=True, null=True)),
                ("unsubscribed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "consent_version",
                    models.PositiveSmallIntegerField(
                        help_text="Version of the sign-up wording the reader agreed to."
                    ),
                ),
                (
                    "consent_text",
                    models.TextField(
                        help_text="The exact sign-up wording the reader agreed to."
                    ),
                ),
                (
                    "consented_at",
                    models.DateTimeField(
                        help_text=(
                            "When the reader sent the sign-up form with this wording."
                        )
                    ),
                ),
                (
                    "last_sent_at",
                    models.DateTimeField(
                        blank=True,
                        help_text=(
                            "When we last e-mailed a confirmation link "
                            "(limits resending)."
                        ),
                        null=True,
                    ),
                ),
            ],
            options={
                "ordering": ["-created", "-pk"],
                "indexes": [
                    models.Index(fields=["status"], name="subscriber_status_idx")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        django.db.models.functions.text.Lower("email"),
                        name="unique_subscriber_email_ci",
                    )
                ],
            },
        ),
        migrations.RunPython(GRANTS.forward, GRANTS.backward),
    ]
