"""The Writers and Editors groups, with the permissions each role needs.

Writers create and edit stories and submit them for review; Editors may also
publish, schedule, withdraw and delete, and share preview links.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

COMMON = [
    "briefings.add_article",
    "briefings.change_article",
    "briefings.view_article",
    "briefings.add_author",
    "briefings.change_author",
    "briefings.view_author",
    "briefings.add_byline",
    "briefings.change_byline",
    "briefings.delete_byline",
    "briefings.view_byline",
    "briefings.add_figure",
    "briefings.change_figure",
    "briefings.delete_figure",
    "briefings.view_figure",
    "briefings.add_relatedlink",
    "briefings.change_relatedlink",
    "briefings.delete_relatedlink",
    "briefings.view_relatedlink",
    "briefings.add_taggedarticle",
    "briefings.change_taggedarticle",
    "briefings.delete_taggedarticle",
    "briefings.view_taggedarticle",
    "briefings.view_workflowevent",
    "taggit.add_tag",
    "taggit.view_tag",
]
EDITORS_ONLY = [
    "briefings.publish_article",
    "briefings.delete_article",
    "briefings.delete_author",
    "briefings.add_previewlink",
    "briefings.change_previewlink",
    "briefings.delete_previewlink",
    "briefings.view_previewlink",
    "taggit.change_tag",
    "taggit.delete_tag",
]
GROUPS = {"Writers": COMMON, "Editors": COMMON + EDITORS_ONLY}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations ran; make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    assign_permissions(apps)


def assign_permissions(apps):
    """Create the groups and give them their permissions (which must exist)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(
                    content_type__app_label=app_label, codename=codename
                )
            )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        (
            "taggit",
            "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx",
        ),
        ("briefings", "0002_workflow_and_previews"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
