"""The cookie groups and every cookie Briefings sets, as editable data.

Necessary cookies are always on; Analytics and Embeds are optional and start
undecided for every reader.
"""

from django.db import migrations

GROUPS = [
    {
        "varname": "necessary",
        "name": "Necessary",
        "description": "Keep the site working and secure. Always on.",
        "is_required": True,
        "is_deletable": False,
        "ordering": 0,
        "cookies": [
            (
                "csrftoken",
                "Briefings",
                False,
                "1 year",
                "Protects forms against cross-site request forgery.",
            ),
            (
                "sessionid",
                "Briefings",
                False,
                "2 weeks",
                "Keeps newsroom staff signed in. Readers never get one.",
            ),
            (
                "cookie_consent",
                "Briefings",
                False,
                "6 months",
                "Remembers which optional cookies you accepted or rejected.",
            ),
            (
                "consent_meta",
                "Briefings",
                False,
                "6 months",
                "A random consent id and the date of your choice, so that we can "
                "prove it and ask again after six months.",
            ),
        ],
    },
    {
        "varname": "analytics",
        "name": "Analytics",
        "description": "Count how many different people read each story, with a "
        "random id in a first-party cookie. Nobody else can read it.",
        "is_required": False,
        "is_deletable": True,
        "ordering": 1,
        "cookies": [
            (
                "briefings_reader",
                "Briefings",
                False,
                "6 months",
                "A random reader id, used only to count unique readers per story.",
            ),
        ],
    },
    {
        "varname": "embeds",
        "name": "Embeds",
        "description": "Show videos and posts from YouTube, Vimeo and X inside "
        "stories. Those companies can then set and read their own cookies.",
        "is_required": False,
        "is_deletable": True,
        "ordering": 2,
        "cookies": [
            (
                "VISITOR_INFO1_LIVE",
                "YouTube (Google)",
                True,
                "6 months",
                "Set by the YouTube player to estimate bandwidth and keep settings.",
            ),
            (
                "vuid",
                "Vimeo",
                True,
                "2 years",
                "Set by the Vimeo player to count views.",
            ),
            (
                "guest_id",
                "X (Twitter)",
                True,
                "2 years",
                "Set by an embedded X post to recognise the browser.",
            ),
        ],
    },
]


def create_groups(apps, schema_editor):
    CookieGroup = apps.get_model("cookie_consent", "CookieGroup")
    Cookie = apps.get_model("cookie_consent", "Cookie")
    CookieDeclaration = apps.get_model("briefings", "CookieDeclaration")
    for spec in GROUPS:
        spec = dict(spec)
        cookies = spec.pop("cookies")
        group, _ = CookieGroup.objects.update_or_create(
            varname=spec.pop("varname"), defaults=spec
        )
        for name, provider, third_party, lifetime, purpose in cookies:
            cookie, _ = Cookie.objects.update_or_create(
                cookiegroup=group,
                name=name,
                domain="",
                defaults={"description": purpose},
            )
            CookieDeclaration.objects.update_or_create(
                cookie=cookie,
                defaults={
                    "provider": provider,
                    "purpose": purpose,
                    "lifetime": lifetime,
                    "third_party": third_party,
                },
            )


def remove_groups(apps, schema_editor):
    CookieGroup = apps.get_model("cookie_consent", "CookieGroup")
    CookieGroup.objects.filter(varname__in=[g["varname"] for g in GROUPS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("briefings", "0004_consent_and_reads"),
        ("cookie_consent", "0004_cookie_natural_key"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
