from django import template

from briefings.search.engine import trending_terms

register = template.Library()


@register.simple_tag
def search_trends():
    """The Search Trends terms (cached; the same for every reader)."""
    return trending_terms()
