from datetime import timedelta

import factory
from django.utils import timezone
from django.utils.text import slugify

from briefings.models import (
    Article,
    ArticleStatus,
    Author,
    Byline,
    Correction,
    CorrectionKind,
    Figure,
    FigurePlace,
    RelatedLink,
    Subscriber,
    SubscriberStatus,
)
from briefings.newsletter.subscribers import CONSENT_WORDINGS, CURRENT_CONSENT_VERSION


def hours_from_now(hours):
    return timezone.now() + timedelta(hours=hours)


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Author

    name = factory.Sequence(lambda n: f"Reporter Number{n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    headline = factory.Sequence(lambda n: f"Ministers meet for talks, round {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.headline))
    standfirst = "Talks continue into the night."
    body = "The first paragraph.\n\n## A subheading\n\nThe second paragraph."
    status = ArticleStatus.DRAFT

    class Params:
        published = factory.Trait(
            status=ArticleStatus.PUBLISHED,
            published_at=factory.LazyFunction(lambda: hours_from_now(-1)),
        )
        scheduled = factory.Trait(
            status=ArticleStatus.PUBLISHED,
            published_at=factory.LazyFunction(lambda: hours_from_now(24)),
        )
        in_review = factory.Trait(status=ArticleStatus.IN_REVIEW)
        withdrawn = factory.Trait(
            status=ArticleStatus.WITHDRAWN,
            published_at=factory.LazyFunction(lambda: hours_from_now(-48)),
        )


class BylineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Byline

    article = factory.SubFactory(ArticleFactory)
    author = factory.SubFactory(AuthorFactory)
    position = factory.Sequence(int)


class FigureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Figure

    article = factory.SubFactory(ArticleFactory)
    place = FigurePlace.BODY
    position = factory.Sequence(lambda n: n + 1)
    caption = factory.Sequence(lambda n: f"Delegates arrive for the talks, day {n}.")
    credit = "Jane Photographer/Agency"


class RelatedLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RelatedLink

    article = factory.SubFactory(ArticleFactory)
    position = factory.Sequence(int)
    title = factory.Sequence(lambda n: f"Earlier coverage, part {n}")


class CorrectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Correction

    article = factory.SubFactory(ArticleFactory, published=True)
    kind = CorrectionKind.CORRECTION
    text = factory.Sequence(
        lambda n: f"An earlier version misstated the date of vote {n}. It was on 3 May."
    )


VIDEO_URL = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"


def story_with_video(headline="Talks resume", tag="Armenia"):
    """A published story with a byline, a tag and a YouTube link in its body."""
    story = ArticleFactory(
        published=True,
        headline=headline,
        body=f"First paragraph.\n\n{VIDEO_URL}\n\nSecond paragraph.",
    )
    BylineFactory(article=story)
    story.tags.add(tag)
    return story


class SubscriberFactory(factory.django.DjangoModelFactory):
    """A confirmed Storyboard subscriber (pass status= for others)."""

    class Meta:
        model = Subscriber

    email = factory.Sequence(lambda n: f"reader{n}@example.com")
    status = SubscriberStatus.CONFIRMED
    consent_version = CURRENT_CONSENT_VERSION
    consent_text = factory.LazyAttribute(lambda o: CONSENT_WORDINGS[o.consent_version])
    consented_at = factory.LazyFunction(timezone.now)
    confirmed_at = factory.LazyFunction(timezone.now)
