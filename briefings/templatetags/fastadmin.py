"""{% jinja_admin "admin/includes/fieldset.html" fieldset heading_level ... %}

Renders the Jinja2 port of one of Django's admin templates (see
briefings.web.renderers) with the named variables of the current context.
The port reproduces Django's template byte for byte, except the file's final
newline (Jinja2 drops it): the one-line template that calls the tag ends
with its own.
"""

from django import template
from django.utils.safestring import mark_safe

from briefings.web import renderers

register = template.Library()


class JinjaAdminNode(template.Node):
    def __init__(self, name, variables, origin):
        self.name, self.variables, self.origin = name, variables, origin

    def render(self, context):
        if not renderers.USE_ADMIN_PORTS:
            original, _ = context.template.engine.find_template(
                self.name, skip=[self.origin]
            )
            html = original.render(context)
        else:
            html = renderers.admin_template(self.name).render(
                {name: context[name] for name in self.variables if name in context}
            )
        return mark_safe(html.removesuffix("\n"))


@register.tag
def jinja_admin(parser, token):
    bits = token.split_contents()[1:]
    if (
        not bits
        or len(bits[0]) < 2
        or bits[0][0] != bits[0][-1]
        or bits[0][0] not in "\"'"
    ):
        raise template.TemplateSyntaxError(
            "jinja_admin takes a quoted template name, then the names of the "
            "variables the template reads"
        )
    name, *variables = bits
    return JinjaAdminNode(name[1:-1], variables, parser.origin)
