"""RSS and Atom feeds: the latest stories, and per tag and per author.

Only published stories, newest first; links are absolute on settings.SITE_URL.
Each author of a story is named on their own: Atom has one <author> each (with
their page), RSS one <dc:creator> each, as feed readers expect (RSS's own
<author> element wants an e-mail address, which we do not publish).
"""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from taggit.models import Tag

from briefings.core.seo import absolute
from briefings.core.textsafety import xml_safe_value
from briefings.stories.models import Article, Author, moved_tag_slug

FEED_LENGTH = 30
DUBLIN_CORE = "http://purl.org/dc/elements/1.1/"


class BylinesRssFeed(Rss201rev2Feed):
    """RSS 2.0 with a <dc:creator> for each of a story's authors."""

    def rss_attributes(self):
        return {**super().rss_attributes(), "xmlns:dc": DUBLIN_CORE}

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        for name, _url in item["authors"]:
            handler.addQuickElement("dc:creator", name)


class BylinesAtomFeed(Atom1Feed):
    """Atom with an <author> (name and page) for each of a story's authors."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        for name, url in item["authors"]:
            handler.startElement("author", {})
            handler.addQuickElement("name", name)
            handler.addQuickElement("uri", url)
            handler.endElement("author")


class XmlSafe:
    """A feed generator that drops what XML 1.0 refuses from every string it
    is given: a stored control character never makes a feed fail."""

    def __init__(self, *args, **kwargs):
        super().__init__(*xml_safe_value(args), **xml_safe_value(kwargs))

    def add_item(self, *args, **kwargs):
        super().add_item(*xml_safe_value(args), **xml_safe_value(kwargs))


class RssFeed(XmlSafe, BylinesRssFeed):
    pass


class AtomFeed(XmlSafe, BylinesAtomFeed):
    pass


class LatestStoriesFeed(Feed):
    feed_type = RssFeed
    url_name = "briefings:feed-rss"

    # -- the feed ---------------------------------------------------------------

    def title(self, obj=None):
        return f"{settings.SITE_NAME}: latest stories"

    def description(self, obj=None):
        return f"The latest stories from {settings.SITE_NAME}."

    def link(self, obj=None):
        return absolute(reverse("briefings:home"))

    def feed_url(self, obj=None):
        return absolute(reverse(self.url_name))

    @property
    def language(self):
        return settings.SITE_LANGUAGE

    #: The column the feed's stories are newest first by.
    time = "published_at"

    def stories(self, obj):
        return Article.objects.published()

    def items(self, obj=None):
        return (
            self.stories(obj)
            .for_listing()
            .prefetch_related("tags")
            .order_by(f"-{self.time}", "-pk")[:FEED_LENGTH]
        )

    # -- each story ---------------------------------------------------------------

    def item_title(self, item):
        return item.headline

    def item_description(self, item):
        return item.standfirst

    def item_link(self, item):
        return absolute(item.get_absolute_url())

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.updated_at or item.published_at

    def item_extra_kwargs(self, item):
        # Written by the feed types above, one element per author.
        return {
            "authors": [
                (author.name, absolute(author.get_absolute_url()))
                for author in item.byline_authors
            ]
        }

    def item_categories(self, item):
        return [tag.name for tag in item.tags.all()]


class LatestStoriesAtomFeed(LatestStoriesFeed):
    feed_type = AtomFeed
    url_name = "briefings:feed-atom"
    subtitle = LatestStoriesFeed.description


class TagFeed(LatestStoriesFeed):
    url_name = "briefings:tag-feed-rss"

    def __call__(self, request, *args, **kwargs):
        try:
            return super().__call__(request, *args, **kwargs)
        except Http404:
            # A merged tag's feed moves with its page (301 to the tag it joined).
            moved = moved_tag_slug(kwargs.get("slug", ""))
            if moved is None:
                raise
            return HttpResponsePermanentRedirect(reverse(self.url_name, args=[moved]))

    def get_object(self, request, slug):
        return get_object_or_404(Tag, slug=slug)

    def title(self, obj=None):
        return f"{settings.SITE_NAME}: {obj.name}"

    def description(self, obj=None):
        return f"The latest stories tagged {obj.name} on {settings.SITE_NAME}."

    def link(self, obj=None):
        return absolute(reverse("briefings:tag-detail", args=[obj.slug]))

    def feed_url(self, obj=None):
        return absolute(reverse(self.url_name, args=[obj.slug]))

    # Through the taggings' own listing index (see models.StoryLink).
    time = "tagged_items__published_at"

    def stories(self, obj):
        return Article.objects.filter(
            tagged_items__tag=obj, tagged_items__published_at__lte=timezone.now()
        )


class TagAtomFeed(TagFeed):
    feed_type = AtomFeed
    url_name = "briefings:tag-feed-atom"
    subtitle = TagFeed.description


class AuthorFeed(LatestStoriesFeed):
    url_name = "briefings:author-feed-rss"

    def get_object(self, request, slug):
        return get_object_or_404(Author, slug=slug)

    def title(self, obj=None):
        return f"{settings.SITE_NAME}: stories by {obj.name}"

    def description(self, obj=None):
        return f"The latest stories by {obj.name} on {settings.SITE_NAME}."

    def link(self, obj=None):
        return absolute(obj.get_absolute_url())

    def feed_url(self, obj=None):
        return absolute(reverse(self.url_name, args=[obj.slug]))

    # Through the bylines' own listing index (see models.StoryLink).
    time = "bylines__published_at"

    def stories(self, obj):
        return Article.objects.filter(
            bylines__author=obj, bylines__published_at__lte=timezone.now()
        )


class AuthorAtomFeed(AuthorFeed):
    feed_type = AtomFeed
    url_name = "briefings:author-feed-atom"
    subtitle = AuthorFeed.description
