"""Attack tests (issue 9): access control over every admin URL, stored XSS
through admin forms, unpublished stories kept out of every reader's view,
abusive parameters, open redirects and cache leaks."""

import json
import re
from datetime import timedelta

import pytest
import reversion
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import URLResolver, reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tasks_db.models import DBTaskResult
from pytest_django.asserts import assertContains, assertNotContains
from reversion.models import Version
from taggit.models import Tag

from briefings.models import (
    Article,
    ArticleStatus,
    Author,
    ConsentRecord,
    Image,
    PreviewLink,
    SearchTerm,
    StoryHour,
    WorkflowEvent,
)
from briefings.newsletter import storyboard
from briefings.newsletter.subscribers import Subscriber
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    BylineFactory,
    CorrectionFactory,
    RelatedLinkFactory,
)
from tests.test_admin import form_values, staff

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")


# --- 1. Access control over every admin URL ----------------------------------------


def one_row_per_admin_model(editor):
    """Make a row of every model the admin manages (the test fails on a new one)."""
    story = ArticleFactory(published=True, headline="Access story")
    BylineFactory(article=story)
    story.tags.add("Access")
    for headline in ("Access story, first", "Access story, second"):
        with reversion.create_revision():
            story.headline = headline
            story.save()
    WorkflowEvent.objects.create(
        article=story,
        user=editor,
        from_status=ArticleStatus.DRAFT,
        to_status=ArticleStatus.PUBLISHED,
    )
    PreviewLink.objects.create(
        article=story, created_by=editor, expires_at=timezone.now() + timedelta(days=1)
    )
    ConsentRecord.objects.create(
        consent_id="6a1f1b0e-0000-4000-8000-000000000001",
        policy_revision=1,
        method="accept_all",
    )
    SearchTerm.objects.create(term="volcano")
    Image.objects.create(file="library/access.png", title="Access", alt_text="A")
    Subscriber.objects.create(
        email="reader@example.com",
        consent_version=1,
        consent_text="Yes.",
        consented_at=timezone.now(),
    )
    attempt = {"ip_address": "10.0.0.1", "user_agent": "x", "username": "editor"}
    AccessAttempt.objects.create(**attempt, failures_since_start=1)
    AccessLog.objects.create(**attempt)
    AccessFailureLog.objects.create(**attempt)
    TOTPDevice.objects.create(user=editor, name="Phone", confirmed=False)
    StaticDevice.objects.create(user=editor, name="Recovery codes")
    storyboard.compose()  # an edition with the story in it
    DBTaskResult.objects.create(
        task_path="briefings.newsletter.subscribers.send_signup_email",
        args_kwargs={"args": [1, "confirm"], "kwargs": {}},
        backend_name="default",
        run_after=timezone.now(),
        status="FAILED",
        exception_class_path="OSError",
        traceback="OSError: Connection refused",
    )
    for model in admin.site._registry:
        assert model._default_manager.exists(), f"make a {model._meta.label} row"


def admin_urls():
    """Every admin URL, as (name, path), with each object id a real row's."""
    objects = {
        m._meta.model_name: m._default_manager.first() for m in admin.site._registry
    }

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
                continue
            yield pattern.name, route

    for name, route in walk(admin.site.get_urls(), ""):
        parts = route.split("/")
        obj = objects.get(parts[1]) if len(parts) > 2 else None
        pk = str(obj.pk) if obj else ""
        path = (
            route.replace("<path:object_id>", pk)
            .replace("<str:object_id>", pk)
            .replace("<int:pk>", pk)
            .replace("<id>", pk)
        )
        if "<path:content_type_id>" in path:
            story = Article.objects.first()
            ctype = ContentType.objects.get_for_model(Article)
            path = f"r/{ctype.pk}/{story.pk}/"
        story = Article.objects.get(headline="Access story, second")
        versions = sorted(v.pk for v in Version.objects.get_for_object(story))
        path = path.replace("^recover/$", "recover/")
        path = path.replace("^recover/(\\d+)/$", f"recover/{versions[0]}/")
        path = path.replace("^([^/]+)/history/(\\d+)/$", f"{pk}/history/{versions[0]}/")
        if path.endswith("/history/compare/"):
            path += f"?version_id1={versions[0]}&version_id2={versions[1]}"
        if path.startswith("^(?P<app_label>"):
            apps = path.split("(?P<app_label>")[1].split(")")[0].split("|")
            for app in apps:
                yield "app_list", f"/admin/{app}/"
            continue
        if path == "(?P<url>.*)$":
            path = "no-such-page/"
        yield name, "/admin/" + path


# Pages any signed-in staff member may open, whatever their permissions.
OPEN_TO_ALL_STAFF = {
    "index": 200,  # "You don't have permission to view or edit anything."
    "two-factor": 200,  # one's own authenticator app
    "password_change": 200,  # one's own password
    "password_change_done": 200,
    "jsi18n": 200,
    "login": 302,  # already signed in: on to the index
    # Django's view-on-site shortcut sends staff to the object's public URL,
    # which is a 404 for readers while the story is not public.
    "view_on_site": 302,
}


def test_every_admin_url_refuses_anonymous_users_and_staff_without_permission(client):
    editor = staff("editor", "Editors")
    one_row_per_admin_model(editor)
    urls = list(admin_urls())
    assert len(urls) > 100
    outsider = User.objects.create_user("outsider", password="long-enough-password-1")
    outsider.is_staff = True
    outsider.save()
    nobody = Client()
    outsider_client = Client()
    outsider_client.force_login(outsider)
    seen = set()
    for name, url in urls:
        response = nobody.get(url)
        if name == "login":
            assert response.status_code == 200
        elif name == "logout":  # signing out changes nothing here; not a GET
            assert (response.status_code, response["Location"]) == (302, "/admin/")
            continue
        else:
            assert response.status_code == 302, url
            assert response["Location"].startswith(f"{LOGIN}?next="), url
        response = outsider_client.get(url)
        if name in OPEN_TO_ALL_STAFF:
            expected = OPEN_TO_ALL_STAFF[name]
        elif name == "app_list":
            expected = 404  # an app with nothing the user may see "does not exist"
        elif name is None and url.endswith("no-such-page/"):
            expected = 404
        elif name is None:
            expected = 302  # /admin/app/model/<id>/: an old address of the change page
        else:
            expected = 403
        assert response.status_code == expected, (url, response.status_code)
        if name is None and expected == 302:
            assert response["Location"] == url + "change/"
        if expected == 403 and name.endswith(("_add", "_change", "_delete")):
            # A crafted POST fares no better than the page.
            data = {"post": "yes", "name": "x", "headline": "x", "email": "x@x.org"}
            assert outsider_client.post(url, data).status_code == 403, url
        seen.add(name)
    # Nor do the list pages' actions run (a POST to a changelist is a 403 too).
    for model in admin.site._registry:
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        pk = model._default_manager.first().pk
        for action in ("delete_selected", "publish_now", "merge_tags", "export_csv"):
            data = {"action": action, "_selected_action": [pk], "post": "yes"}
            assert outsider_client.post(url, data).status_code == 403, (url, action)
    assert all(model._default_manager.exists() for model in admin.site._registry)
    assert Article.objects.get().status == ArticleStatus.PUBLISHED
    assert {
        "briefings_article_dashboard",
        "briefings_article_scheduled",
        "briefings_article_delete",
        "briefings_subscriber_changelist",
        "taggit_tag_change",
        "auth_user_password_change",
        "otp_totp_totpdevice_config",
    } <= seen


def test_a_writer_cannot_delete_change_live_merge_tags_or_see_subscribers(client):
    writer = staff("writer", "Writers")
    live = ArticleFactory(published=True, headline="Live story")
    BylineFactory(article=live)
    draft = ArticleFactory(headline="Writer draft")
    for headline in ("Writer draft, take 2", "Writer draft, take 3"):
        with reversion.create_revision():
            draft.headline = headline
            draft.save()
    live.tags.add("Alpha")
    draft.tags.add("Beta")
    alpha, beta = Tag.objects.get(name="Alpha"), Tag.objects.get(name="Beta")
    client.force_login(writer)
    for story in (live, draft):
        delete = reverse("admin:briefings_article_delete", args=[story.pk])
        assert client.get(delete).status_code == 403
        assert client.post(delete, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:briefings_article_changelist")
    response = client.post(
        changelist,
        {
            "action": "delete_selected",
            "_selected_action": [live.pk, draft.pk],
            "post": "yes",
        },
    )
    # The action is not offered to writers: Django takes it for no action at all.
    assert (response.status_code, response["Location"]) == (302, changelist)
    assertContains(client.get(changelist), "No action selected.")
    assert Article.objects.count() == 2
    change = reverse("admin:briefings_article_change", args=[live.pk])
    assert client.get(change).status_code == 200  # view only
    assert client.post(change, {"headline": "Changed"}).status_code == 403
    live.refresh_from_db()
    assert live.headline == "Live story"
    tags = reverse("admin:taggit_tag_changelist")
    client.post(
        tags,
        {
            "action": "merge_tags",
            "_selected_action": [alpha.pk, beta.pk],
            "apply": "1",
            "target": alpha.pk,
        },
    )
    assert set(Tag.objects.values_list("name", flat=True)) == {"Alpha", "Beta"}
    assert list(draft.tags.names()) == ["Beta"]
    tag_change = reverse("admin:taggit_tag_change", args=[beta.pk])
    assert (
        client.post(tag_change, {"name": "Alpha", "slug": "alpha"}).status_code == 403
    )
    for name in ("changelist", "add"):
        url = reverse(f"admin:briefings_subscriber_{name}")
        assert client.get(url).status_code == 403
    # Writers do read the history of stories they may see.
    versions = sorted(v.pk for v in Version.objects.get_for_object(draft))
    compare = reverse("admin:briefings_article_compare", args=[draft.pk])
    response = client.get(
        compare, {"version_id1": versions[0], "version_id2": versions[1]}
    )
    assert response.status_code == 200


# --- 2. Stored XSS through the admin ----------------------------------------------


def payload(field):
    return f"<script>alert('{field}')</script>"


ALT = '" onerror="alert(1)'
JSON_LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def json_ld(response):
    return [json.loads(block) for block in JSON_LD.findall(response.content.decode())]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_hostile_text_saved_through_the_admin_stays_text_everywhere(client, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.test_images import picture

    client.force_login(staff("editor", "Editors"))
    response = client.post(
        reverse("admin:briefings_author_add"),
        {"name": payload("author"), "slug": "eve"},
        follow=True,
    )
    assertContains(response, "was added successfully")
    assertNotContains(response, payload("author"))
    story = ArticleFactory(published=True, headline="Volcano report")
    change = reverse("admin:briefings_article_change", args=[story.pk])
    data = form_values(client, change)
    data.update(
        {
            "headline": f"Volcano {payload('headline')}",
            "tags": f"{payload('tag')},",
            "bylines-TOTAL_FORMS": "1",
            "bylines-0-author": str(Author.objects.get(slug="eve").pk),
            "bylines-0-position": "0",
            "figures-TOTAL_FORMS": "1",
            "figures-0-place": "hero",
            "figures-0-position": "1",
            "figures-0-caption": "Ash over the town.",
            "figures-0-credit": "Agency",
            "figures-0-alt_text": ALT,
            "figures-0-upload": SimpleUploadedFile("ash.png", picture(), "image/png"),
            "related_links-TOTAL_FORMS": "1",
            "related_links-0-position": "0",
            "related_links-0-title": payload("related"),
            "related_links-0-url": "https://example.org/background",
            "corrections-TOTAL_FORMS": "1",
            "corrections-0-kind": "correction",
            "corrections-0-text": payload("correction"),
            "corrections-0-made_at_0": data["corrections-__prefix__-made_at_0"],
            "corrections-0-made_at_1": data["corrections-__prefix__-made_at_1"],
        }
    )
    response = client.post(change, data, follow=True)
    assertContains(response, "was changed successfully")  # the success message
    story.refresh_from_db()
    assert story.headline == f"Volcano {payload('headline')}"
    assert story.figures.get().alt_text == ALT
    fields = ["author", "headline", "tag", "related", "correction"]
    tag = Tag.objects.get(name=payload("tag"))
    admin_pages = [
        response,  # the changelist with the message
        client.get(change),
        client.get(reverse("admin:briefings_author_changelist")),
        client.get(reverse("admin:taggit_tag_changelist")),
        client.get(reverse("admin:taggit_tag_change", args=[tag.pk])),
    ]
    client.logout()
    public = {
        "story": client.get(story.get_absolute_url()),
        "search": client.get(reverse("briefings:search"), {"q": "volcano"}),
        "rss": client.get(reverse("briefings:feed-rss")),
        "atom": client.get(reverse("briefings:feed-atom")),
        "news sitemap": client.get(reverse("briefings:news-sitemap")),
        "home": client.get(reverse("briefings:home")),
    }
    for response in [*admin_pages, *public.values()]:
        assert response.status_code == 200
        for field in fields:
            assertNotContains(response, payload(field))
        assertNotContains(response, ALT)
        assertNotContains(response, "<script>alert")
    for page in (admin_pages[1], public["story"]):  # every field, escaped
        for field in fields:
            assertContains(page, f"&lt;script&gt;alert(&#x27;{field}&#x27;)")
    assertContains(admin_pages[1], 'value="&quot; onerror=&quot;alert(1)"')
    assertContains(public["story"], 'alt="&quot; onerror=&quot;alert(1)"')
    assertContains(public["search"], "&lt;script&gt;alert(&#x27;headline&#x27;)")
    assertContains(public["rss"], "&lt;script&gt;alert(")
    # JSON-LD keeps the text as data: the block parses and holds the raw strings.
    (article,) = [d for d in json_ld(public["story"]) if d["@type"] == "NewsArticle"]
    assert article["headline"] == f"Volcano {payload('headline')}"
    assert article["author"][0]["name"] == payload("author")
    assert article["keywords"] == [payload("tag")]
    assert article["correction"][0]["text"] == payload("correction")


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
    ],
)
def test_a_related_link_to_a_script_url_is_refused(client, url):
    client.force_login(staff("editor", "Editors"))
    story = ArticleFactory(published=True, headline="Volcano report")
    BylineFactory(article=story)
    change = reverse("admin:briefings_article_change", args=[story.pk])
    data = form_values(client, change)
    data.update(
        {
            "related_links-TOTAL_FORMS": "1",
            "related_links-0-position": "0",
            "related_links-0-title": "Background",
            "related_links-0-url": url,
        }
    )
    response = client.post(change, data)
    assert response.status_code == 200
    assertContains(response, "Enter a valid URL.")
    assert not story.related_links.exists()
    assertNotContains(client.get(story.get_absolute_url()), "alert(1)")


# --- 3. Unpublished stories stay out of every reader's view --------------------------


@pytest.mark.parametrize("state", ["draft", "in_review", "scheduled", "withdrawn"])
def test_unpublished_stories_are_invisible_everywhere_a_reader_looks(client, state):
    from briefings.analytics.readership import hour_start

    word = f"Zorblax{state.replace('_', '')}"
    author = AuthorFactory(name="Shared Reporter", slug="shared-reporter")
    live = ArticleFactory(published=True, headline="Volcano erupts", slug="volcano")
    BylineFactory(article=live, author=author)
    live.tags.add("Volcanoes")
    traits = {} if state == "draft" else {state: True}
    hidden = ArticleFactory(
        headline=f"{word} scoop", slug=word.lower(), body=f"All about {word}.", **traits
    )
    BylineFactory(article=hidden, author=author)
    hidden.tags.add("Volcanoes")
    CorrectionFactory(article=hidden, text=f"{word} was misspelt.")
    RelatedLinkFactory(article=live, title=f"{word} scoop")  # matched by headline
    RelatedLinkFactory(article=live, title="Follow-up", story=hidden)  # linked
    now = hour_start(timezone.now())
    StoryHour.objects.create(article=hidden, hour=now, views=10_000)
    StoryHour.objects.create(article=live, hour=now, views=1)
    assert client.get(hidden.get_absolute_url()).status_code == 404
    tag = Tag.objects.get(name="Volcanoes")
    urls = [
        reverse("briefings:home"),
        live.get_absolute_url(),
        reverse("briefings:tag-list"),
        reverse("briefings:tag-detail", args=[tag.slug]),
        author.get_absolute_url(),
        reverse("briefings:corrections"),
        reverse("briefings:search") + "?q=scoop",
        reverse("briefings:feed-rss"),
        reverse("briefings:feed-atom"),
        reverse("briefings:tag-feed-rss", args=[tag.slug]),
        reverse("briefings:tag-feed-atom", args=[tag.slug]),
        reverse("briefings:author-feed-rss", args=[author.slug]),
        reverse("briefings:author-feed-atom", args=[author.slug]),
        reverse("briefings:sitemap"),
        reverse("briefings:news-sitemap"),
        *(
            reverse("briefings:sitemap-section", args=[section])
            for section in ("pages", "stories", "tags", "authors")
        ),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert word.lower() not in response.content.decode().lower(), url
    # Search echoes the query, but finds nothing.
    response = client.get(reverse("briefings:search"), {"q": word})
    assert response.status_code == 200
    assert not response.context.get("results")
    assertNotContains(response, hidden.get_absolute_url())
    assertNotContains(response, "scoop")
    assertNotContains(response, "All about")
    page = client.get(live.get_absolute_url())
    assertContains(page, "Volcano erupts")
    assertNotContains(page, "Follow-up")  # the link to the hidden story is dropped
    for block in json_ld(page):
        assert word not in json.dumps(block)
    assertContains(client.get(reverse("briefings:search"), {"q": "volcano"}), "1 story")
    # Previews: only staff who may see stories.
    preview = reverse("briefings:article-preview", args=[hidden.pk])
    assert client.get(preview).status_code == 404
    outsider = User.objects.create_user("outsider", password="long-enough-password-1")
    outsider.is_staff = True
    outsider.save()
    client.force_login(outsider)
    assert client.get(preview).status_code == 404
    assert client.get(hidden.get_absolute_url()).status_code == 404


# --- 4. Abusive parameters and form input -----------------------------------------

SAME_ORIGIN = {"Origin": "http://testserver"}
STORY_LINK = re.compile(r'href="(/stories/[^"]+/)"')


@pytest.fixture
def listing():
    author = AuthorFactory(slug="shared-reporter")
    for n in range(3):
        story = ArticleFactory(published=True, headline=f"Volcano erupts, day {n}")
        BylineFactory(article=story, author=author)
        story.tags.add("Volcanoes")
        CorrectionFactory(article=story)
    return {
        "home": reverse("briefings:home"),
        "tag": reverse("briefings:tag-detail", args=["volcanoes"]),
        "author": reverse("briefings:author-detail", args=["shared-reporter"]),
        "corrections": reverse("briefings:corrections"),
        "tags": reverse("briefings:tag-list"),
    }


#: Story listings page by cursor (?before=/?after=, see StoryListing), the
#: others by page number.
STORY_LISTINGS = {"home", "tag", "author"}


@pytest.mark.parametrize(
    "page", ["999999999", "-1", "abc", "1e9", "0", "1.5", "%00", "9" * 400, "last"]
)
def test_absurd_page_numbers_answer_404_or_a_clean_page(client, listing, page):
    for name, url in listing.items():
        if name in STORY_LISTINGS:
            for key in ("before", "after"):
                response = client.get(f"{url}?{key}={page}")
                assert response.status_code == 404, (name, key, page)
            continue
        response = client.get(f"{url}?page={page}")
        # "last" is Django's name for the last page; anything else is no page.
        assert response.status_code == (200 if page == "last" else 404), (name, page)
    response = client.get(reverse("briefings:search"), {"q": "volcano", "page": page})
    assert response.status_code == 200  # search shows the nearest real page
    assert len(STORY_LINK.findall(response.content.decode())) == 3


@pytest.mark.parametrize(
    "cursor",
    ["99999999999999999-1", "1-99999999999999999", "0-0", "1-1-1", "1- 1", "١-١"],
)
def test_cursors_past_either_end_are_404_or_the_first_page(client, listing, cursor):
    for name in STORY_LISTINGS:
        older = client.get(listing[name], {"before": cursor})
        newer = client.get(listing[name], {"after": cursor})
        if cursor == "99999999999999999-1":  # after every story: all are older
            assert len(STORY_LINK.findall(older.content.decode())) == 3
        else:
            assert older.status_code == 404, (name, cursor)
        assert newer.status_code in (302, 404), (name, cursor)
        if newer.status_code == 302:
            assert newer["Location"] == listing[name]


@pytest.mark.parametrize(
    "params",
    [
        {"order": "-author__password"},
        {"o": "-1"},
        {"ordering": "headline"},
        {"_connector": "OR"},
        {"tags__name": "x"},
        {"status": "draft"},
        {"published_at__gt": "2000-01-01"},
        {"q[]": "1"},
        {"page[]": "2"},
    ],
)
def test_unknown_ordering_and_filter_parameters_are_ignored(client, listing, params):
    ArticleFactory(headline="Volcano draft")
    for url in listing.values():
        plain = STORY_LINK.findall(client.get(url).content.decode())
        response = client.get(url, params)
        assert response.status_code == 200
        assert STORY_LINK.findall(response.content.decode()) == plain, (url, params)
    search = reverse("briefings:search")
    plain = STORY_LINK.findall(client.get(search, {"q": "volcano"}).content.decode())
    response = client.get(search, {"q": "volcano", **params})
    assert response.status_code == 200
    assert STORY_LINK.findall(response.content.decode()) == plain
    assert len(plain) == 3


def test_repeated_and_array_parameters(client, listing):
    response = client.get(reverse("briefings:home") + "?before=1-1&before=x")
    assert response.status_code == 404  # the last one counts, and is no page
    response = client.get(
        reverse("briefings:home") + "?before=x&before=99999999999999999-1"
    )
    assert len(STORY_LINK.findall(response.content.decode())) == 3
    response = client.get(reverse("briefings:search") + "?q[]=volcano&q[0]=volcano")
    assertContains(response, "Type a word or two to search the stories.")


def test_a_megabyte_of_query_string_is_a_clean_page(client, listing):
    huge = "volcano " + "x" * 1_000_000
    response = client.get(reverse("briefings:search"), {"q": huge})
    assertContains(response, "searched for its first")
    for name, url in listing.items():
        key = "before" if name in STORY_LISTINGS else "page"
        assert client.get(url, {key: "9" * 1_000_000}).status_code == 404
        assert client.get(url, {"utm": huge}).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "\u202evolcano",  # right-to-left override
        "vol\u200dcano",  # zero-width joiner
        "\u200b\u200c\u200d\ufeff",  # zero-width only
        "👩‍👩‍👧 volcano",
        "e\u0301\u0301\u0301\u0301",  # stacked combining accents
        "\U0001f600" * 300,
        "ｖｏｌｃａｎｏ",  # full-width letters
        "\ud7ff\ue000\uffff",
    ],
)
def test_odd_unicode_in_search_is_a_clean_page(client, listing, query):
    response = client.get(reverse("briefings:search"), {"q": query})
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex"
    response.content.decode("utf-8")  # well-formed UTF-8, whatever came in


def test_a_megabyte_post_body_is_refused_cleanly(client):
    from briefings.newsletter.subscribers import CURRENT_CONSENT_VERSION

    data = {"email": "a" * 1_000_000 + "@example.com"}
    data["consent_version"] = CURRENT_CONSENT_VERSION
    response = client.post(reverse("briefings:newsletter"), data, headers=SAME_ORIGIN)
    assertContains(response, "at most 254 characters")
    assert not Subscriber.objects.exists() and mail.outbox == []
    response = client.post(
        reverse("briefings:consent"),
        {"choice": "accept_all" + "x" * 1_000_000},
        headers=SAME_ORIGIN,
    )
    assert response.status_code == 400
    assert not ConsentRecord.objects.exists()


@pytest.mark.parametrize(
    "email",
    [
        "reader\x00@example.com",
        "reader@example.com\x00",
        "reader@example.com\nBcc: victim@example.com",
        "reader@example.com\r\nBcc: victim@example.com",
        "reader@example.com%0ABcc:victim@example.com",
        '"reader\nBcc: victim@example.com"@example.com',
        "reader@example.com,victim@example.com",
    ],
)
def test_nul_bytes_and_header_injection_in_the_email_are_refused(client, email):
    from briefings.newsletter.subscribers import CURRENT_CONSENT_VERSION

    response = client.post(
        reverse("briefings:newsletter"),
        {"email": email, "consent_version": CURRENT_CONSENT_VERSION},
        headers=SAME_ORIGIN,
    )
    assert response.status_code == 200
    assert response.context["newsletter_form"].errors["email"]
    assert not Subscriber.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize("choice", ["accept_all\x00", "\x00", "reject_all\n"])
def test_nul_bytes_in_the_consent_choice_are_refused(client, choice):
    response = client.post(
        reverse("briefings:consent"), {"choice": choice}, headers=SAME_ORIGIN
    )
    assert response.status_code == 400
    assert not ConsentRecord.objects.exists()
    assert "cookie_consent" not in response.cookies


@pytest.mark.parametrize("headers", [{}, {"Origin": "https://evil.example"}])
def test_posts_without_a_csrf_token_from_elsewhere_are_refused(headers):
    from briefings.newsletter.subscribers import CURRENT_CONSENT_VERSION

    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("briefings:newsletter"),
        {"email": "victim@example.com", "consent_version": CURRENT_CONSENT_VERSION},
        headers=headers,
    )
    assert response.status_code == 403
    response = client.post(
        reverse("briefings:consent"), {"choice": "accept_all"}, headers=headers
    )
    assert response.status_code == 403
    assert "cookie_consent" not in response.cookies
    assert not Subscriber.objects.exists() and mail.outbox == []
    assert not ConsentRecord.objects.exists()


# --- 5. Open redirects ---------------------------------------------------------------

ELSEWHERE = [
    "http://evil.example",
    "https://evil.example/path",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "https:evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    " //evil.example",
    "/\t/evil.example",
    "/\r\n/evil.example",
    "\x00//evil.example",
    "http://testserver@evil.example",
    "http://evil.example\\@testserver",
]


@pytest.mark.parametrize("target", ELSEWHERE)
def test_no_redirect_parameter_leaves_the_site(client, settings, target):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from briefings.newsletter.subscribers import CURRENT_CONSENT_VERSION

    response = client.post(
        reverse("briefings:consent"),
        {"choice": "reject_all", "next": target},
        headers=SAME_ORIGIN,
    )
    assert (response.status_code, response["Location"]) == (302, "/")
    response = client.post(
        reverse("briefings:newsletter"),
        {
            "email": "reader@example.com",
            "consent_version": CURRENT_CONSENT_VERSION,
            "next": target,
        },
        headers=SAME_ORIGIN,
    )
    assert (response.status_code, response["Location"]) == (
        302,
        reverse("briefings:newsletter-thanks"),
    )
    editor = staff("editor", "Editors")
    editor.set_password("long-enough-password-1")
    editor.save()
    fresh = Client()
    response = fresh.post(
        LOGIN,
        {"username": "editor", "password": "long-enough-password-1", "next": target},
    )
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    # Already signed in: the login page sends staff to the index, not to `next`.
    response = fresh.get(LOGIN, {"next": target})
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    response = fresh.post(reverse("admin:logout"), {"next": target})
    assert response.status_code == 200  # "Logged out", with no redirect at all
    assert "_auth_user_id" not in fresh.session


# --- 6. The page cache never leaks a signed-in editor's page --------------------------


def test_an_editors_page_is_never_what_an_anonymous_reader_gets(settings):
    settings.SESSION_COOKIE_NAME = "sessionid"
    story = ArticleFactory(published=True, headline="Volcano erupts")
    BylineFactory(article=story)
    editor = staff("cache-editor", "Editors")
    editor_client = Client()
    editor_client.force_login(editor)
    editor_client.get(reverse("admin:index"))  # a CSRF cookie, admin messages...
    pages = [
        story.get_absolute_url(),
        reverse("briefings:home"),
        reverse("briefings:newsletter"),
    ]
    for url in pages:
        mine = editor_client.get(url)
        assert mine.status_code == 200
        assert "private" in mine["Cache-Control"], url
        assert "X-Page-Cache" not in mine, url
        reader = Client()
        for expected in ("miss", "hit"):
            response = reader.get(url)
            assert response["X-Page-Cache"] == expected, url
            assert "public" in response["Cache-Control"], url
            assert not response.cookies, (url, response.cookies)
            html = response.content.decode()
            for leak in ("csrfmiddlewaretoken", "Log out", "/admin/", "cache-editor"):
                assert leak not in html, (url, leak)
            assert "sessionid" not in response.get("Set-Cookie", "")
        assert not reader.cookies  # no session, no CSRF cookie was ever set


# --- 7. Issue 14: no side door around the workflow ------------------------------------


def saved_as_revision(story, **changes):
    """Change `story` and save it as one revision (with its bylines), as the
    admin does; return the story's version in it."""
    with reversion.create_revision():
        for field, value in changes.items():
            setattr(story, field, value)
        story.save()
    return Version.objects.get_for_object(story).order_by("-pk").first()


@pytest.fixture
def live_with_old_draft():
    """A live story whose history holds the draft it was."""
    story = ArticleFactory(headline="Old draft headline")
    BylineFactory(article=story)
    old = saved_as_revision(story)
    saved_as_revision(
        story,
        headline="Live headline",
        status=ArticleStatus.PUBLISHED,
        published_at=timezone.now() - timedelta(hours=1),
    )
    return story, old


def revision_url(story_pk, version):
    return reverse("admin:briefings_article_revision", args=[story_pk, version.pk])


def test_a_writer_cannot_revert_a_live_story_to_take_it_down(
    client, live_with_old_draft
):
    story, old = live_with_old_draft
    url = revision_url(story.pk, old)
    # The form the attack GETs as a Writer (here: as the Editor sees it).
    client.force_login(staff("editor", "Editors"))
    data = form_values(client, url)
    assert data["headline"] == "Old draft headline"
    data.update(headline="Taken over", status="in_review")
    client.force_login(staff("writer", "Writers"))
    assert client.get(url).status_code == 403
    assert client.post(url, data).status_code == 403
    story.refresh_from_db()
    assert (story.headline, story.status) == ("Live headline", ArticleStatus.PUBLISHED)
    assert not WorkflowEvent.objects.exists()
    assert Client().get(story.get_absolute_url()).status_code == 200


def test_an_editors_revert_of_a_live_story_is_a_recorded_workflow_event(
    client, live_with_old_draft
):
    story, old = live_with_old_draft
    editor = staff("editor", "Editors")
    client.force_login(editor)
    url = revision_url(story.pk, old)
    data = form_values(client, url)
    data["status"] = "in_review"
    assert client.post(url, data).status_code == 302
    story.refresh_from_db()
    assert (story.headline, story.status) == ("Old draft headline", "in_review")
    event = WorkflowEvent.objects.get()
    assert (event.from_status, event.to_status, event.user) == (
        ArticleStatus.PUBLISHED,
        ArticleStatus.IN_REVIEW,
        editor,
    )


def test_a_version_is_restored_only_into_its_own_story(client):
    live = ArticleFactory(published=True, headline="Live words")
    # A byline of the live story whose id is also a draft's id.
    byline = BylineFactory(article=live, pk=live.pk + 1000)
    live_version = saved_as_revision(live)
    byline_version = Version.objects.get_for_object(byline).get()
    assert byline_version.revision_id == live_version.revision_id
    live.headline = "Live words, corrected"
    live.save()
    draft = ArticleFactory(pk=byline.pk, headline="A writer's draft")
    for user in (staff("writer", "Writers"), staff("editor", "Editors")):
        client.force_login(user)
        data = form_values(
            client, reverse("admin:briefings_article_change", args=[draft.pk])
        )
        data["status"] = "in_review"
        for version in (byline_version, live_version):
            url = revision_url(draft.pk, version)
            assert client.get(url).status_code == 404, (user, version)
            assert client.post(url, data).status_code == 404, (user, version)
    live.refresh_from_db()
    draft.refresh_from_db()
    assert live.headline == "Live words, corrected"
    assert (draft.headline, draft.status) == ("A writer's draft", ArticleStatus.DRAFT)
    # A Writer still reverts their own draft to its own earlier version.
    own = saved_as_revision(draft)
    saved_as_revision(draft, headline="A second take")
    client.force_login(User.objects.get(username="writer"))
    url = revision_url(draft.pk, own)
    assert client.post(url, form_values(client, url)).status_code == 302
    draft.refresh_from_db()
    assert draft.headline == "A writer's draft"


def test_only_editors_recover_and_only_deleted_stories(client, live_with_old_draft):
    story, old = live_with_old_draft
    editor = staff("editor", "Editors")
    client.force_login(editor)
    data = form_values(
        client, reverse("admin:briefings_article_change", args=[story.pk])
    )
    data.update(headline="Taken over", status="in_review")
    recover = reverse("admin:briefings_article_recover", args=[old.pk])
    recover_list = reverse("admin:briefings_article_recoverlist")
    client.force_login(staff("writer", "Writers"))
    assert client.get(recover_list).status_code == 403
    assert client.get(recover).status_code == 403
    assert client.post(recover, data).status_code == 403
    # An Editor "recovers" only what was deleted, not a live story's old text.
    client.force_login(editor)
    assert client.get(recover).status_code == 404
    assert client.post(recover, data).status_code == 404
    story.refresh_from_db()
    assert (story.headline, story.status) == ("Live headline", ArticleStatus.PUBLISHED)
    # A deleted draft comes back.
    draft = ArticleFactory(headline="Deleted by mistake")
    version = saved_as_revision(draft)
    delete = reverse("admin:briefings_article_delete", args=[draft.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assertContains(client.get(recover_list), "Deleted by mistake")
    url = reverse("admin:briefings_article_recover", args=[version.pk])
    data = form_values(client, url)
    assert client.post(url, data).status_code == 302
    assert Article.objects.get(pk=draft.pk).headline == "Deleted by mistake"


@pytest.mark.parametrize("state", ["published", "scheduled", "withdrawn"])
def test_writers_edit_authors_only_while_no_story_of_theirs_is_public(client, state):
    louise = AuthorFactory(name="Louise Greenwood", slug="louise-greenwood")
    BylineFactory(author=louise, article=ArticleFactory(**{state: True}))
    newcomer = AuthorFactory(name="New Reporter", slug="new-reporter")
    BylineFactory(author=newcomer, article=ArticleFactory(in_review=True))
    writer = staff("writer", "Writers")
    client.force_login(writer)
    url = reverse("admin:briefings_author_change", args=[louise.pk])
    page = client.get(url)
    assert page.status_code == 200  # to read
    assertNotContains(page, 'name="name"')
    renamed = {"name": "Someone Else", "slug": "someone-else", "bio": "x"}
    assert client.post(url, renamed).status_code == 403
    louise.refresh_from_db()
    assert (louise.name, louise.slug) == ("Louise Greenwood", "louise-greenwood")
    with pytest.raises(PermissionDenied):
        Author(pk=louise.pk, name="Someone Else", slug="x").save_by(writer)
    # Authors with no public story, and new ones, are the Writers' too.
    url = reverse("admin:briefings_author_change", args=[newcomer.pk])
    data = {"name": "Renamed Reporter", "slug": "renamed-reporter", "bio": ""}
    assert client.post(url, data).status_code == 302
    add = reverse("admin:briefings_author_add")
    data = {"name": "Brand New", "slug": "brand-new", "bio": ""}
    assert client.post(add, data).status_code == 302
    assert (
        Author.objects.filter(slug__in=["renamed-reporter", "brand-new"]).count() == 2
    )
    client.force_login(staff("editor", "Editors"))
    url = reverse("admin:briefings_author_change", args=[louise.pk])
    assert client.post(url, renamed).status_code == 302
    louise.refresh_from_db()
    assert louise.name == "Someone Else"


def test_the_preview_asks_for_the_admins_two_factor_sign_in(client, settings):
    settings.BRIEFINGS_REQUIRE_2FA = True
    draft = ArticleFactory(headline="Embargoed draft")
    url = reverse("briefings:article-preview", args=[draft.pk])
    editor = staff("editor", "Editors")
    client.force_login(editor)  # a password, and no authenticator app yet
    response = client.get(url)
    assert (response.status_code, response["Location"]) == (
        302,
        reverse("admin:two-factor"),
    )
    assert b"Embargoed" not in response.content
    # With an app, a session opened without its code is sent to sign in.
    for user in (editor, staff("writer", "Writers")):
        device = TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(f"{LOGIN}?next=")
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        assertContains(client.get(url), "Embargoed draft")


def test_a_writer_cannot_set_the_updated_time(client):
    draft = ArticleFactory(headline="A draft")
    writer = staff("writer", "Writers")
    client.force_login(writer)
    url = reverse("admin:briefings_article_change", args=[draft.pk])
    data = form_values(client, url)
    data["substantive_update"] = "on"
    assert client.post(url, data).status_code == 302
    draft.refresh_from_db()
    assert draft.updated_at is None
    draft.updated_at = timezone.now()
    with pytest.raises(PermissionDenied):
        draft.save_by(writer)
    assert Article.objects.get(pk=draft.pk).updated_at is None


def test_editors_delete_drafts_and_withdraw_what_was_published(client):
    writer, editor = staff("writer", "Writers"), staff("editor", "Editors")
    draft = ArticleFactory(headline="Unwanted draft")
    BylineFactory(article=draft)
    draft.move_to(ArticleStatus.IN_REVIEW, writer)  # a workflow event
    live = ArticleFactory(published=True, headline="Live story")
    withdrawn = ArticleFactory(withdrawn=True, headline="Withdrawn story")
    returned = ArticleFactory(published=True, headline="Returned story")
    returned.move_to(ArticleStatus.DRAFT, editor)
    superuser = User.objects.create_superuser("boss", password="long-enough-password-1")
    for user in (editor, superuser):
        client.force_login(user)
        for story in (live, withdrawn, returned):
            delete = reverse("admin:briefings_article_delete", args=[story.pk])
            response = client.post(delete, {"post": "yes"}, follow=True)
            assertContains(response, "withdraw them instead")
        changelist = reverse("admin:briefings_article_changelist")
        response = client.post(
            changelist,
            {
                "action": "delete_selected",
                "_selected_action": [live.pk, draft.pk],
                "post": "yes",
            },
            follow=True,
        )
        assertContains(response, "Nothing was deleted")
        assert Article.objects.count() == 4
        with pytest.raises(PermissionDenied):
            live.delete_by(user)
    client.force_login(editor)
    delete = reverse("admin:briefings_article_delete", args=[draft.pk])
    assertContains(client.get(delete), "Are you sure")
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not Article.objects.filter(pk=draft.pk).exists()
    client.force_login(writer)
    other = ArticleFactory(headline="Writer's own draft")
    delete = reverse("admin:briefings_article_delete", args=[other.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Article.objects.count() == 4
