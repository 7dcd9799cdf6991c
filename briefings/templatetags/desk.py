"""The desk on the admin's home page, and review notes on the story form."""

from django import template

from briefings.newsroom import desk, editing, review

register = template.Library()


@register.simple_tag(takes_context=True)
def desk_sections(context):
    """The signed-in person's desk, or [] for staff who cannot see stories."""
    user = context["request"].user
    if not user.has_perm("briefings.view_article"):
        return []
    return desk.sections(user)


@register.simple_tag(takes_context=True)
def desk_notices(context):
    return desk.notices(context["request"].user)


@register.simple_tag
def sent_back(article):
    """The editor's send-back on `article`, while it is still the latest step."""
    if article is None or article.pk is None:
        return None
    return review.last_sent_back(article)


@register.simple_tag(takes_context=True)
def story_safety(context, article):
    """What the story form's safety nets start from: who else has the story
    open (opening it says so to them), and an autosave to offer back."""
    user = context["request"].user
    story = article if article is not None and article.pk else None
    return {
        # Opening the form is its first heartbeat (the cache, no extra request).
        "others": editing.heartbeat(story, user) if story else [],
        "autosave": editing.autosave_to_offer(user, story),
        "autosave_seconds": editing.AUTOSAVE_SECONDS,
        "heartbeat_seconds": editing.HEARTBEAT_SECONDS,
    }
