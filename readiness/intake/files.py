"""Writing inside a tenant folder: never over an existing file unless asked, and never half a result."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from readiness.core.errors import ReadinessError, relative


class ExistingFileError(ReadinessError):
    """A command would overwrite files; it wrote nothing."""


def refuse_existing(paths: Iterable[Path]) -> None:
    existing = [path for path in paths if path.exists()]
    if existing:
        names = ", ".join(relative(path) for path in existing[:5]) + (" ..." if len(existing) > 5 else "")
        raise ExistingFileError(existing[0], f"already exists ({len(existing)} file(s): {names}); nothing was "
                                             "written. Add --force to replace them")


def write_new(path: Path, text: str) -> None:
    """Write ``text`` through a temporary file beside ``path`` and rename it into place (never half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
