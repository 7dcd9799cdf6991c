"""Roles as code: the Writers and Editors groups have exactly ROLES
(briefings/newsroom/roles.py) after `migrate` and `manage.py sync_roles`."""

from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from django.db.migrations.loader import MigrationLoader

from briefings.newsroom import roles
from briefings.newsroom.roles import ROLES, UnknownPermission, sync_roles

pytestmark = pytest.mark.django_db


def granted(name):
    group = Group.objects.get(name=name)
    return {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def permission(name):
    app_label, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def test_after_migrate_the_groups_have_exactly_the_declared_roles():
    assert set(Group.objects.filter(name__in=ROLES).values_list("name", flat=True)) == {
        "Writers",
        "Editors",
    }
    for name, perms in ROLES.items():
        assert granted(name) == perms, name


def test_the_old_migrations_granted_exactly_what_roles_declares():
    """The grants spread over the migration history add up to ROLES: moving
    them into roles.py changed nobody's permissions."""
    Group.objects.filter(name__in=ROLES).delete()
    history = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    granting = sorted(
        name
        for app_label, name in history
        if app_label == "briefings"
        and hasattr(import_module(f"briefings.migrations.{name}"), "assign_permissions")
    )
    assert granting == [
        "0003_newsroom_groups",
        "0007_search",
        "0008_newsletter",
        "0009_corrections_and_hourly_reads",
        "0012_slug_history_and_tag_aliases",
        "0018_tasks_and_storyboard",
        "0020_image_library",
    ]
    for name in granting:
        import_module(f"briefings.migrations.{name}").assign_permissions(apps)

    assert granted("Writers") == ROLES["Writers"]
    assert granted("Editors") == ROLES["Editors"]
    assert sync_roles() == []


def test_editors_alone_publish_and_delete():
    only_editors = ROLES["Editors"] - ROLES["Writers"]
    assert {"briefings.publish_article", "briefings.delete_article"} <= only_editors
    assert ROLES["Writers"] <= ROLES["Editors"]


def test_sync_puts_back_a_removed_grant_and_takes_away_an_extra_one():
    writers = Group.objects.get(name="Writers")
    writers.permissions.remove(permission("briefings.view_article"))
    writers.permissions.add(permission("briefings.publish_article"))
    # Other groups and users' own permissions are not the roles' business.
    columnists = Group.objects.create(name="Columnists")
    columnists.permissions.add(permission("briefings.publish_article"))

    changes = sync_roles()

    assert changes == [
        "Writers: + briefings.view_article",
        "Writers: - briefings.publish_article",
    ]
    assert granted("Writers") == ROLES["Writers"]
    assert granted("Editors") == ROLES["Editors"]
    assert granted("Columnists") == {"briefings.publish_article"}
    assert sync_roles() == []


def test_migrate_syncs_the_roles():
    Group.objects.get(name="Editors").permissions.remove(
        permission("briefings.publish_article")
    )
    Group.objects.get(name="Writers").permissions.add(
        permission("briefings.delete_article")
    )

    call_command("migrate", verbosity=0)

    assert granted("Editors") == ROLES["Editors"]
    assert granted("Writers") == ROLES["Writers"]


def test_sync_creates_a_missing_group_and_missing_permissions():
    Group.objects.filter(name="Editors").delete()
    Permission.objects.filter(content_type__app_label="taggit").delete()

    changes = sync_roles()

    assert "Editors: group created" in changes
    assert "Editors: + taggit.delete_tag" in changes
    assert "Writers: + taggit.add_tag" in changes
    assert granted("Editors") == ROLES["Editors"]
    assert granted("Writers") == ROLES["Writers"]


def test_check_lists_differences_and_fails_without_changing_anything(capsys):
    call_command("sync_roles", "--check")
    assert "match roles.py" in capsys.readouterr().out

    Group.objects.get(name="Writers").permissions.add(
        permission("briefings.publish_article")
    )
    with pytest.raises(CommandError) as failure:
        call_command("sync_roles", "--check")
    assert failure.value.returncode == 1
    assert "Writers: - briefings.publish_article" in capsys.readouterr().out
    assert "briefings.publish_article" in granted("Writers")

    call_command("sync_roles")
    assert "Writers: - briefings.publish_article" in capsys.readouterr().out
    assert granted("Writers") == ROLES["Writers"]
    call_command("sync_roles", "--check")


def test_a_misspelt_permission_is_refused(monkeypatch):
    declared = ROLES["Writers"]
    monkeypatch.setitem(roles.ROLES, "Writers", declared | {"briefings.publish_artcle"})
    with pytest.raises(UnknownPermission, match="briefings.publish_artcle"):
        sync_roles()
    assert granted("Writers") == declared


def test_sync_with_nothing_to_change_is_a_handful_of_queries(
    django_assert_max_num_queries,
):
    with django_assert_max_num_queries(9):
        assert sync_roles() == []


def test_check_reports_permissions_missing_from_the_database():
    Permission.objects.filter(content_type__app_label="taggit").delete()
    with pytest.raises(CommandError):
        call_command("sync_roles", "--check")
    assert not Permission.objects.filter(content_type__app_label="taggit").exists()
    assert sync_roles(dry_run=True)[:2] == [
        "Writers: + taggit.add_tag",
        "Writers: + taggit.view_tag",
    ]
