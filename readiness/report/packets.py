"""Documents rendered from the policies for reviewers and customers (``<report-dir>/packets/``).

``RENDERERS`` lists every document the run publishes: a function of the gate's policies and
tenants returning ``{relative path: text}``. Scenarios check the same text in memory that the
run later writes, so what is checked is exactly what is published.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from readiness.boundaries import security
from readiness.report import access_packets, controls, proof, templates

Renderer = Callable[..., dict[str, str]]


def security_packet(policies, tenants) -> dict[str, str]:
    """``{"security-packet.md": text}``, from the policies alone (every shard of a run renders the same packet)."""
    text = templates.environment().get_template("packets/security-packet.md.j2").render(
        packet=security.packet_model(policies), controls=controls.packet_view(policies))
    return {security.PACKET: text}


RENDERERS: list[Renderer] = [
    proof.render,
    security_packet,
    access_packets.render_checklists,
    access_packets.render_partner_packet,
    access_packets.render_runbooks,
]


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
