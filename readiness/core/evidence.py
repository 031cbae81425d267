"""The evidence manifest: every input the run read, with its SHA-256, and one root digest over them."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Iterable, Mapping

from readiness.core.errors import OptionError, relative

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def label(path: Path, root: Path | None = None, roots: Mapping[str, Path] | None = None) -> str:
    """How the manifest names a file: relative to ``root`` (the working directory by default) when below it,
    else ``<option>/relative`` below the input folder an option named, so no report holds an absolute path."""
    name = relative(path, root)
    if not Path(name).is_absolute():
        return name
    resolved = Path(path).resolve()
    for option, folder in sorted((roots or {}).items()):
        try:
            below = resolved.relative_to(Path(folder).resolve()).as_posix()
            return f"<{option}>" if below == "." else f"<{option}>/{below}"
        except ValueError:
            continue
    return name


def resolve(name: str, roots: Mapping[str, Path] | None = None, root: Path | None = None) -> Path:
    """The file a manifest path names (the inverse of :func:`label`)."""
    if name.startswith("<"):
        option, _, rest = name[1:].partition(">/")
        if option not in (roots or {}):
            raise OptionError(f"the report names inputs below --{option}: give --{option}=PATH")
        return Path(roots[option]) / rest
    return (root or Path.cwd()) / name


def manifest(
    files: Iterable[Path], root: Path | None = None, roots: Mapping[str, Path] | None = None
) -> list[dict[str, str]]:
    """``[{path, sha256}]`` sorted by path; paths as :func:`label` names them."""
    # Files listed below an input folder are named from the folder's label: resolving each of thousands of
    # files on its own is most of the manifest's cost at agency scale.
    folders = sorted(((Path(folder), label(folder, root, {option: folder}))
                      for option, folder in (roots or {}).items()), key=lambda pair: -len(pair[0].parts))
    unique = {}
    for file in map(Path, files):
        if not file.is_file():
            continue
        below = next((_join(prefix, file.relative_to(folder).as_posix()) for folder, prefix in folders
                      if file.is_relative_to(folder)), None)
        unique[below or label(file, root, roots)] = file
    return [{"path": name, "sha256": sha256_file(unique[name])} for name in sorted(unique)]


def _join(prefix: str, below: str) -> str:
    return below if prefix == "." else f"{prefix}/{below}"


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
