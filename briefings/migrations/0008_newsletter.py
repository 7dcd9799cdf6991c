"""The Storyboard newsletter's subscribers; Editors may view (and export) them."""

import django.db.models.functions.text
import django.utils.timezone
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

EDITORS_PERMISSIONS = ["briefings.view_subscriber"]


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations ran; make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    assign_permissions(apps)


def assign_permissions(apps):
    """Give Editors their newsletter permissions (which must exist)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Editors")
    for perm in EDITORS_PERMISSIONS:
        app_label, codename = perm.split(".")
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(
        content_type__app_label="briefings", codename="view_subscriber"
    ).delete()


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
        migrations.RunPython(grant, revoke),
    ]
