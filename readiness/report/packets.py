"""Documents rendered from the policies for reviewers and customers (``<report-dir>/packets/``).

Each concern that publishes a document adds a renderer to ``RENDERERS``: a function
of the gate's policies and tenants returning ``{relative path: text}``. Scenarios
check the same text in memory that the run later writes, so what is checked is
exactly what is published.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable, Iterable

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from readiness.report import proof
from readiness.boundaries import security

Renderer = Callable[..., dict[str, str]]

RENDERERS: list[Renderer] = [proof.render, security.render_packet]


@functools.cache  # one environment per process: Jinja compiles each template once, not once per tenant
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("readiness", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_all(policies, tenants: Iterable) -> dict[str, str]:
    tenants = list(tenants)
    documents: dict[str, str] = {}
    for renderer in RENDERERS:
        documents.update(renderer(policies, tenants))
    return dict(sorted(documents.items()))


def write(documents: dict[str, str], out_dir: Path) -> list[Path]:
    written = []
    for name, text in documents.items():
        path = Path(out_dir) / "packets" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
