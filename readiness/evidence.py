"""The evidence manifest: every input the run read, with its SHA-256, and one root digest over them."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Iterable

from .errors import relative

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def manifest(files: Iterable[Path], root: Path | None = None) -> list[dict[str, str]]:
    """``[{path, sha256}]`` sorted by path; paths relative to ``root`` (the working directory by default)."""
    unique = {relative(f, root): Path(f) for f in files if Path(f).is_file()}
    return [{"path": name, "sha256": sha256_file(unique[name])} for name in sorted(unique)]


def root_digest(entries: list[dict[str, str]]) -> str:
    h = hashlib.sha256()
    for entry in entries:
        h.update(f"{entry['sha256']}  {entry['path']}\n".encode())
    return h.hexdigest()


def git_commit(folder: Path | None = None) -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None
