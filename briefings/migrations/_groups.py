"""Giving the newsroom's groups the permissions of models a migration adds.

Not a migration (the loader skips modules whose names start with "_"); the
migrations from 0007 on call it. Tests that flush the database call each
migration's `assign_permissions` to put the grants back.
"""

from django.contrib.auth.management import create_permissions


class GroupGrants:
    """{group name: [briefings permission codenames]} to add, and take back."""

    def __init__(self, grants):
        self.grants = grants

    def forward(self, apps, schema_editor):
        # Permissions are normally created after all migrations ran; make them now.
        app_config = apps.get_app_config("briefings")
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
        self.assign(apps)

    def assign(self, apps):
        """Give the groups their permissions (which must exist)."""
        Group = apps.get_model("auth", "Group")
        for name, codenames in self.grants.items():
            group, _ = Group.objects.get_or_create(name=name)
            group.permissions.add(*self._permissions(apps, codenames))

    def backward(self, apps, schema_editor):
        Group = apps.get_model("auth", "Group")
        for name, codenames in self.grants.items():
            for group in Group.objects.filter(name=name):
                group.permissions.remove(*self._permissions(apps, codenames))

    @staticmethod
    def _permissions(apps, codenames):
        Permission = apps.get_model("auth", "Permission")
        return Permission.objects.filter(
            content_type__app_label="briefings", codename__in=codenames
        )
