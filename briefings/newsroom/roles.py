"""The newsroom's roles as code: what the Writers and Editors groups may do.

`ROLES` is the one place that says which permissions each group has.
`sync_roles()` makes the database say the same; it runs after every `migrate`
(connected in briefings/signals.py) and from `manage.py sync_roles`
(`--check` for deploy checks). The grants the old migrations made one model at
a time (0003, 0007, 0008, 0009, 0012, 0018) stay in the migration history; the
result after `migrate` is exactly `ROLES` (tests/test_roles.py checks both).

What a role may do beyond its permissions (a Writer edits drafts only, an
Editor signs in with two factors) is the models' and the admin's rule; the
permission that tells an Editor apart is `briefings.publish_article`.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS, router, transaction

# Writing stories, which both roles do: stories with their bylines, figures,
# related links and tags. Deleting a story or an author, and publishing, are
# the Editors' calls; the inlines' rows (bylines, figures, links, tags on a
# story) are the writer's to remove while editing a draft.
WRITING = (
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
    # The story's history of submissions, publications and withdrawals.
    "briefings.view_workflowevent",
    # New tags while tagging a story; renaming and deleting tags is editing.
    "taggit.add_tag",
    "taggit.view_tag",
    # The image library: upload pictures and use them in any story. Deleting
    # an unused picture is the Editors' call.
    "briefings.add_image",
    "briefings.change_image",
    "briefings.view_image",
)

#: {group name: {"app_label.codename", ...}}: exactly the permissions each
#: group has after `migrate` or `manage.py sync_roles`.
ROLES = {
    "Writers": frozenset(
        {
            *WRITING,
            # Writers see, but do not make, what Editors manage:
            "briefings.view_correction",  # corrections on their stories
            "briefings.view_tagalias",  # which words become which tag
            "briefings.view_slugredirect",  # a story's old addresses
            "briefings.view_edition",  # Storyboard editions
            "briefings.view_editionitem",
        }
    ),
    "Editors": frozenset(
        {
            *WRITING,
            "briefings.delete_image",
            # Publish, schedule and withdraw (the permission the workflow checks).
            "briefings.publish_article",
            # Delete drafts never published (the model refuses anything else),
            # and authors with no story.
            "briefings.delete_article",
            "briefings.delete_author",
            # Preview links shared before publication.
            "briefings.add_previewlink",
            "briefings.change_previewlink",
            "briefings.delete_previewlink",
            "briefings.view_previewlink",
            # Keep tags clean: rename, merge (merging deletes) and alias them.
            "taggit.change_tag",
            "taggit.delete_tag",
            "briefings.add_tagalias",
            "briefings.change_tagalias",
            "briefings.delete_tagalias",
            "briefings.view_tagalias",
            "briefings.view_tagredirect",
            "briefings.view_slugredirect",
            # Corrections: add and word them. Nobody but a superuser deletes
            # one, since a correction is the record of a mistake.
            "briefings.add_correction",
            "briefings.change_correction",
            "briefings.view_correction",
            # Search Trends: see them and hide a term.
            "briefings.view_searchterm",
            "briefings.change_searchterm",
            "briefings.view_searchtermday",
            # The newsletter's subscribers (seen, never edited by hand).
            "briefings.view_subscriber",
            # Storyboard: compose and send editions, see deliveries.
            "briefings.add_edition",
            "briefings.change_edition",
            "briefings.delete_edition",
            "briefings.view_edition",
            "briefings.add_editionitem",
            "briefings.change_editionitem",
            "briefings.delete_editionitem",
            "briefings.view_editionitem",
            "briefings.view_delivery",
            # Failed background tasks: see them and run one again.
            "briefings.view_failedtask",
            "briefings.change_failedtask",
        }
    ),
}


class UnknownPermission(LookupError):
    """A permission named in ROLES does not exist (a typo, or a removed model)."""


def sync_roles(*, using=DEFAULT_DB_ALIAS, dry_run=False) -> list[str]:
    """Make the Writers and Editors groups have exactly the permissions in ROLES.

    Creates a missing group, grants what is declared and missing, and removes
    what is granted and not declared: a permission given by hand to Writers or
    Editors (in the admin's *Groups*) is taken away here, so declare it in
    ROLES instead. Other groups, and permissions given to users directly, are
    untouched. Permissions not yet in the database (before Django's own
    post-migrate step has run for their app) are created first.

    Returns one line per change ("Editors: + briefings.view_delivery"); with
    `dry_run`, changes nothing and returns what it would change. Raises
    UnknownPermission if ROLES names a permission that no model defines.
    """
    if not router.allow_migrate_model(using, Group):
        return []
    if not dry_run:
        for app_label in sorted(_app_labels(ROLES)):
            create_permissions(
                global_apps.get_app_config(app_label), verbosity=0, using=using
            )
    declared = {perm for perms in ROLES.values() for perm in perms}
    permissions = _permissions(using, declared)
    unknown = declared - permissions.keys()
    if unknown and not dry_run:
        raise UnknownPermission(
            "ROLES names permissions that do not exist: " + ", ".join(sorted(unknown))
        )
    groups = {
        group.name: group for group in Group.objects.using(using).filter(name__in=ROLES)
    }
    granted = _granted(using, groups.values())
    changes, plan = [], []
    for name, perms in ROLES.items():
        have = granted.get(name, {})
        missing = sorted(perms - have.keys())
        extra = sorted(have.keys() - perms)
        if name not in groups:
            changes.append(f"{name}: group created")
        changes += [f"{name}: + {perm}" for perm in missing]
        changes += [f"{name}: - {perm}" for perm in extra]
        if name not in groups or missing or extra:
            plan.append((name, missing, [have[perm] for perm in extra]))
    if dry_run or not plan:
        return changes
    with transaction.atomic(using=using):
        for name, missing, extra in plan:
            group = groups.get(name) or Group.objects.using(using).create(name=name)
            group.permissions.add(*(permissions[perm] for perm in missing))
            group.permissions.remove(*extra)
    return changes


def _app_labels(roles) -> set[str]:
    return {perm.split(".")[0] for perms in roles.values() for perm in perms}


def _permissions(using, names) -> dict[str, int]:
    """{"app_label.codename": permission id} for the given names that exist."""
    labels = {name.split(".")[0] for name in names}
    rows = (
        Permission.objects.using(using)
        .filter(content_type__app_label__in=labels)
        .values_list("content_type__app_label", "codename", "pk")
    )
    found = {f"{app_label}.{codename}": pk for app_label, codename, pk in rows}
    return {name: found[name] for name in names if name in found}


def _granted(using, groups) -> dict[str, dict[str, int]]:
    """{group name: {"app_label.codename": permission id}} as granted now."""
    through = Group.permissions.through
    rows = (
        through.objects.using(using)
        .filter(group__in=[group.pk for group in groups])
        .values_list(
            "group__name",
            "permission__content_type__app_label",
            "permission__codename",
            "permission_id",
        )
    )
    granted = {group.name: {} for group in groups}
    for name, app_label, codename, pk in rows:
        granted[name][f"{app_label}.{codename}"] = pk
    return granted


def sync_after_migrate(using=DEFAULT_DB_ALIAS, verbosity=1, stdout=None, **kwargs):
    """post_migrate receiver for the briefings app: `migrate` ends with ROLES.

    Says what it changed (nothing, on a database the migrations made) unless
    `migrate` was asked to be quiet.
    """
    changes = sync_roles(using=using)
    if changes and verbosity >= 1 and stdout is not None:
        stdout.write("  Roles (briefings/newsroom/roles.py):")
        for change in changes:
            stdout.write(f"    {change}")
