"""Formats other tools read, each rendered from the built report: SARIF (code scanning), OSCAL assessment results
(compliance teams) and cucumber JSON (cucumber report tools). Written only when the gate is asked for them
(``--sarif``, ``--oscal``, ``--cucumber``), byte-identical for the same report."""

from __future__ import annotations

from pathlib import Path

from readiness.report import cucumber, document, sarif


def render(name: str, built: dict, policies, features_dir: Path) -> object:
    if name == "sarif":
        return sarif.render(built, policies)
    if name == "oscal":
        from readiness.report import oscal  # compliance-trestle's models load only when OSCAL is asked for

        return oscal.render(built)
    if name == "cucumber":
        return cucumber.render(built, features_dir)
    raise ValueError(f"unknown format {name!r}")


FORMATS = ("sarif", "oscal", "cucumber")


def write(built: dict, policies, options) -> list[Path]:
    """Write each format the options ask for (``options.sarif`` etc. hold the paths); the paths written."""
    written = []
    for name in FORMATS:
        target = getattr(options, name)
        if target is None:
            continue
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(document.json_text(render(name, built, policies, options.features_dir)), encoding="utf-8")
        written.append(path)
    return written
