"""Every model of the briefings app, gathered from its domain packages.

Django loads an app's models from here; the code lives in the packages."""

from briefings.analytics.models import (  # noqa: F401
    StoryDay,
    StoryHour,
    StoryReader,
)
from briefings.consent.models import (  # noqa: F401
    ConsentMethod,
    ConsentRecord,
    CookieDeclaration,
)
from briefings.core.limits import RateLimit  # noqa: F401
from briefings.jobs.models import (  # noqa: F401
    FailedTask,
    PeriodicJob,
)
from briefings.newsletter.editions import (  # noqa: F401
    Delivery,
    DeliveryStatus,
    Edition,
    EditionItem,
    EditionQuerySet,
    EditionStatus,
)
from briefings.newsletter.subscribers import Subscriber, SubscriberStatus  # noqa: F401
from briefings.newsroom.models import (  # noqa: F401
    PREVIEW_LINK_SALT,
    Autosave,
    Notice,
    NoticeQuerySet,
    PreviewLink,
    PreviewLinkQuerySet,
)
from briefings.search.models import (  # noqa: F401
    SearchTerm,
    SearchTermDay,
    SearchTermReader,
)
from briefings.stories.library import Image  # noqa: F401
from briefings.stories.listings import (  # noqa: F401
    CARD_FIELDS,
    LISTINGS,
    PER_PAGE,
    StoryListing,
    StoryPage,
    author_by_slug,
    cards,
    parse_cursor,
    published_story,
    story_cursor,
    tag_by_slug,
)
from briefings.stories.models import (  # noqa: F401
    AS_STORED,
    OPEN_STATUSES,
    PUBLISH_PERMISSION,
    PUBLISHED_NOT_DELETED,
    Article,
    ArticleKind,
    ArticleManager,
    ArticleQuerySet,
    ArticleStatus,
    Author,
    AuthorUsage,
    Byline,
    Correction,
    CorrectionKind,
    CorrectionQuerySet,
    Figure,
    FigurePlace,
    RelatedLink,
    SlugRedirect,
    StoryLink,
    StoryLinkManager,
    StoryState,
    TagAlias,
    TaggedArticle,
    TagRedirect,
    TagUsage,
    Usage,
    WorkflowAction,
    WorkflowEvent,
    WorkflowRefused,
    may_publish,
    moved_tag_slug,
    plain_text,
    process_figure_image,
    shorten,
    tag_key,
)
