"""The desk on the admin's home page, and review notes on the story form."""

from django import template

from .. import desk, review

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
