"""{% link %}: Django's {% url %} for fixed reader addresses, remembered per process."""

from django import template

from briefings.core.links import reverse

register = template.Library()


@register.simple_tag
def link(viewname, *args):
    """`{% link 'briefings:tag-detail' tag.slug %}`, as `{% url %}` would give it."""
    return reverse(viewname, args)
