"""Inline SVG pictures for the reports: status bars, grids, funnels and state diagrams.

Every picture is self-contained SVG (no scripts, no external assets), carries
``role="img"`` with a ``<title>`` and ``<desc>`` for screen readers, prints in
greyscale without losing meaning (every mark is labelled with words and numbers,
colour is a second signal only) and is escaped: labels from fixtures show as text.

Templates reach these functions as ``charts.<name>(...)`` (this module is a Jinja2
global of ``report`` and ``livingdoc``). Give every picture on a page its own title:
element ids derive from it. Each returns ``markupsafe.Markup``; put a
visible text alternative (a table or a sentence) next to the picture as well —
``sentence(...)`` builds one for a list of (label, count) rows.
"""

from __future__ import annotations

import hashlib
from typing import Iterable, Sequence

from markupsafe import Markup, escape

# Status colours chosen to stay distinct in greyscale (light to dark) and to pair with a word or symbol.
STATUS_STYLE: dict[str, tuple[str, str]] = {
    "passed": ("#2e8b57", "✔"),
    "met": ("#2e8b57", "✔"),
    "ok": ("#2e8b57", "✔"),
    "failed": ("#a4161a", "✘"),
    "pending": ("#d08c00", "◔"),
    "waived": ("#b35900", "⚑"),  # an exception, never a pass
    "gap": ("#9a9a9a", "○"),
    "dry-run-passed": ("#6f7fd0", "◇"),
    "dry-run-failed": ("#3f1f70", "◆"),
    "dry-run": ("#6f7fd0", "◇"),
    "uncovered": ("#9a9a9a", "○"),
    "blocked": ("#a4161a", "■"),
}
_DEFAULT_STYLE = ("#5c5c5c", "•")


def style(status: str) -> tuple[str, str]:
    """(fill colour, symbol) for a status word; unknown words get grey and a bullet."""
    return STATUS_STYLE.get(status, _DEFAULT_STYLE)


def _ident(title: str, desc: str) -> str:
    """A stable element id (same picture, same id: reports stay reproducible); distinct titles give distinct ids."""
    return "chart-" + hashlib.sha256(f"{title}\0{desc}".encode()).hexdigest()[:10]


def _frame(width: int, height: int, title: str, desc: str, body: Iterable[str], css_class: str) -> Markup:
    ident = _ident(title, desc)
    return Markup(
        f'<svg class="chart {css_class}" role="img" aria-labelledby="{ident}-t {ident}-d" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="13">\n'
        f'<title id="{ident}-t">{escape(title)}</title>\n<desc id="{ident}-d">{escape(desc)}</desc>\n'
        # One element per line: a report holds one chart per tenant, and its scanners judge each distinct line once.
        + "\n".join(body).replace("{ident}", ident)
        + "\n</svg>"
    )


def sentence(rows: Sequence[tuple[str, int]], unit: str = "") -> str:
    """The text alternative of a count chart: "3 passed, 1 failed, 0 pending"."""
    suffix = f" {unit}" if unit else ""
    return ", ".join(f"{number} {label}" for label, number in rows) + suffix


def bar_chart(rows: Sequence[tuple[str, int]], title: str, *, width: int = 560, unit: str = "") -> Markup:
    """One labelled horizontal bar per (status word, count); the status word picks colour and symbol."""
    label_width, number_width, row_height = 150, 60, 26
    bar_space = width - label_width - number_width
    largest = max((n for _, n in rows), default=0) or 1
    body = []
    for index, (label, number) in enumerate(rows):
        y = index * row_height + 4
        fill, symbol = style(label)
        length = round(bar_space * number / largest)
        body.append(
            f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end">{escape(symbol)} {escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length}" height="{row_height - 8}" fill="{fill}" '
            f'stroke="#000" stroke-width="{1 if number else 0}"/>'
            f'<text x="{label_width + length + 6}" y="{y + 16}">{number}</text>'
        )
    height = len(rows) * row_height + 8
    return _frame(width, height, title, sentence(rows, unit), body, "bar-chart")


def grid(
    rows: Sequence[str], columns: Sequence[str], cells: dict[tuple[str, str], str], title: str,
    *, cell_width: int = 96, label_width: int = 120,
) -> Markup:
    """A rows × columns grid (e.g. API families × gates); each cell shows its status word, symbol and colour.

    ``cells[(row, column)]`` is a status word; a missing cell reads "n/a".
    """
    head, row_height = 34, 28
    label_width = max(label_width, 8 * max((len(row) for row in rows), default=0) + 12)  # never cut a row label
    body = []
    for c, column in enumerate(columns):
        x = label_width + c * cell_width + cell_width / 2
        body.append(f'<text x="{x}" y="{head - 10}" text-anchor="middle" font-weight="bold">{escape(column)}</text>')
    described = []
    for r, row in enumerate(rows):
        y = head + r * row_height
        body.append(f'<text x="{label_width - 8}" y="{y + 18}" text-anchor="end">{escape(row)}</text>')
        for c, column in enumerate(columns):
            status = cells.get((row, column), "n/a")
            fill, symbol = style(status)
            x = label_width + c * cell_width
            body.append(
                f'<rect x="{x + 1}" y="{y + 1}" width="{cell_width - 2}" height="{row_height - 2}" '
                f'fill="{fill}" fill-opacity="0.25" stroke="{fill}" stroke-width="2"/>'
                f'<text x="{x + cell_width / 2}" y="{y + 18}" text-anchor="middle">'
                f'{escape(symbol)} {escape(status)}</text>'
            )
            described.append(f"{row} × {column}: {status}")
    width = label_width + cell_width * len(columns) + 4
    height = head + row_height * len(rows) + 4
    return _frame(width, height, title, "; ".join(described), body, "grid-chart")


def funnel(stages: Sequence[tuple[str, int]], title: str, *, width: int = 560, unit: str = "") -> Markup:
    """Stages narrowing left to right in reading order (e.g. leads → bookings → jobs → invoices → paid)."""
    row_height = 30
    largest = max((n for _, n in stages), default=0) or 1
    body = []
    for index, (label, number) in enumerate(stages):
        length = max(round((width - 20) * number / largest), 2)
        x = (width - length) / 2
        y = index * row_height + 2
        shade = 0.85 - 0.6 * index / max(len(stages) - 1, 1)
        body.append(
            f'<rect x="{x}" y="{y}" width="{length}" height="{row_height - 4}" fill="#3f4ea0" '
            f'fill-opacity="{shade:.2f}" stroke="#000"/>'
            f'<text x="{width / 2}" y="{y + 18}" text-anchor="middle" paint-order="stroke" stroke="#fff" '
            f'stroke-width="3">{escape(label)}: {number}</text>'
        )
    return _frame(width, len(stages) * row_height + 4, title, sentence(stages, unit), body, "funnel-chart")


def state_diagram(
    states: Sequence[tuple[str, int]], transitions: Sequence[tuple[str, str]], title: str,
    *, box_width: int = 130, gap: int = 46,
) -> Markup:
    """States as labelled boxes in one row (with their item counts) and arrows for the allowed transitions.

    Forward arrows run above the boxes' mid line, backward ones (e.g. retrying → queued) curve below.
    """
    box_height, top = 44, 40
    position = {name: index for index, (name, _) in enumerate(states)}
    body = [
        '<defs><marker id="{ident}-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#000"/></marker></defs>'
    ]
    for name, number in states:
        x = position[name] * (box_width + gap) + 4
        fill, symbol = style(name)
        body.append(
            f'<rect x="{x}" y="{top}" width="{box_width}" height="{box_height}" rx="8" fill="{fill}" '
            f'fill-opacity="0.2" stroke="#000"/>'
            f'<text x="{x + box_width / 2}" y="{top + 18}" text-anchor="middle" font-weight="bold">'
            f'{escape(symbol)} {escape(name)}</text>'
            f'<text x="{x + box_width / 2}" y="{top + 36}" text-anchor="middle">{number} item(s)</text>'
        )
    described = [f"{name}: {number}" for name, number in states]
    for source, target in transitions:
        if source not in position or target not in position:
            continue
        a, b = position[source], position[target]
        x1 = a * (box_width + gap) + 4 + box_width / 2
        x2 = b * (box_width + gap) + 4 + box_width / 2
        if b > a:
            y, bend = top, top - 14 - 8 * (b - a)
        else:
            y, bend = top + box_height, top + box_height + 14 + 8 * (a - b)
        body.append(f'<path d="M{x1},{y} Q{(x1 + x2) / 2},{bend} {x2},{y}" fill="none" stroke="#000" '
                    f'stroke-width="1.5" marker-end="url(#{{ident}}-arrow)"/>')
        described.append(f"{source} → {target}")
    width = len(states) * (box_width + gap)
    height = top + box_height + 40 + 8 * len(states)
    return _frame(width, height, title, "; ".join(described), body, "state-diagram")
