"""The last look before a story goes out: warnings that do not block publishing.

What blocks publishing (a headline, text, an author, alt text on images) is
enforced by the story form; these are the things an editor should see and
decide on.
"""

from briefings.stories import images
from briefings.stories.library import attach_library_images
from briefings.stories.models import Article

HEADLINE_LIMIT = 110


def warnings(article: Article) -> list[str]:
    """What an editor should know before publishing `article` (saved)."""
    found = []
    headline = article.headline.strip()
    if len(headline) > HEADLINE_LIMIT:
        found.append(
            f"The headline is {len(headline)} characters long: search results and "
            f"social cards cut it after about {HEADLINE_LIMIT}."
        )
    duplicate = (
        Article.objects.exclude(pk=article.pk)
        .with_headline(headline)
        .only("headline", "status")
        .first()
        if headline
        else None
    )
    if duplicate is not None:
        found.append(
            f"Another story ({duplicate.get_status_display().lower()}) has the same "
            "headline; readers and search engines will confuse them."
        )
    if not article.standfirst.strip():
        found.append(
            "The standfirst is empty: story cards, feeds and social cards show it."
        )
    for number, figure in enumerate(
        attach_library_images(article.figures.all()), start=1
    ):
        if not figure.has_picture:
            continue
        name = "The hero image" if figure.place == "hero" else f"Image {number}"
        if not figure.shown_alt.strip():
            found.append(f"{name} has no alt text.")
        if not figure.shown_credit.strip():
            found.append(f"{name} has no credit.")
        # Stored on save: no file is opened.
        width = figure.library_image.width
        if figure.place == "hero" and width and width < images.HERO_WIDTH:
            found.append(
                f"The hero image is {width} px wide; news surfaces (Google "
                f"Discover, social cards) want at least {images.HERO_WIDTH} px."
            )
    links = list(article.related_links.all())
    if links:
        # Those readers see (as Article.related_for_readers decides).
        resolved = {
            link.title
            for link, story in article.link_targets(links)
            if story is not None or link.url
        }
        for link in links:
            if link.title not in resolved:
                found.append(
                    f"The related link “{link.title}” goes nowhere yet (no URL, "
                    "and no published story has that headline): readers won't see it."
                )
    return found
