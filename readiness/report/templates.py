"""The one Jinja environment of the package: the report, its feature pages and every packet render through it.

Templates live in ``readiness/templates/``; autoescaping is on for HTML, off for Markdown. Undefined
names raise (a template that asks for data the model lacks fails loudly, never renders a blank).
"""

from __future__ import annotations

import functools

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from readiness.report import charts, livingdoc

# Sections that come in families share one template: ``sandbox-protocol-TOKEN-01`` -> ``sandbox-protocol``.
SECTION_FAMILIES = ("sandbox-protocol",)


@functools.cache  # one environment per process: Jinja compiles each template once, not once per render
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("readiness", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    templates = frozenset(env.list_templates())
    env.globals["section_template"] = lambda name: section_template(name, templates)
    env.globals["status_words"] = livingdoc.STATUS_WORDS
    env.globals.update(charts=charts, feature_page=livingdoc.feature_page, scenario_anchor=livingdoc.scenario_anchor)
    env.filters["css_string"] = css_string
    return env


def section_template(name: str, templates: frozenset[str]) -> str | None:
    """The template of a report section: ``sections/<name>.html.j2``, else its family's, else None (not shown)."""
    candidates = [name] + [family for family in SECTION_FAMILIES if name.startswith(family + "-")]
    return next((f"sections/{c}.html.j2" for c in candidates if f"sections/{c}.html.j2" in templates), None)


def css_string(text: str) -> Markup:
    """``text`` as a quoted CSS string that cannot close its quote or the ``<style>`` element."""
    return Markup('"' + "".join(ch if ch.isalnum() or ch in " .,:;()-_" else f"\\{ord(ch):x} " for ch in text) + '"')
