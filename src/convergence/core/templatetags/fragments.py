"""``{% fragment "name" value… %}…{% endfragment %}``: a part of a page rendered once per
combination of the values it names, then read from the cache (``core.fragments``).

Like Django's ``{% cache %}``, but keyed by the code version and the language too, and safe
around forms: ``{% csrf_token %}`` inside renders a placeholder that each page's own token
replaces. Only what the listed values decide may appear inside: everything else a fragment
shows must be the same for everyone who gets it.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.utils.safestring import SafeString

from convergence.core import fragments

register = template.Library()


class FragmentNode(template.Node):
    def __init__(self, name: str, nodelist: NodeList, vary_on: list[FilterExpression]) -> None:
        self.name = name
        self.nodelist = nodelist
        self.vary_on = vary_on

    def render(self, context: template.Context) -> SafeString:
        values = [expression.resolve(context) for expression in self.vary_on]
        key = fragments.key(self.name, *values)

        def render() -> str:
            with context.push(fragments.csrf_placeholder_context()):
                return str(self.nodelist.render(context))

        html = fragments.cached(key, render)
        request: Any = context.get("request")
        if request is None:
            return SafeString(html)
        return fragments.fill_csrf(html, request)


@register.tag("fragment")
def do_fragment(parser: Parser, token: Token) -> FragmentNode:
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% fragment %} needs a name.")
    name = bits[1].strip("\"'")
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    return FragmentNode(name, nodelist, [parser.compile_filter(bit) for bit in bits[2:]])
