"""Errors for input the gate cannot judge. Each message names the file and, where known, the key and line."""

from __future__ import annotations

from pathlib import Path


def relative(path: Path | str, root: Path | None = None) -> str:
    """A path as a reader should see it: relative to the working directory when it lies below it."""
    path = Path(path)
    base = root or Path.cwd()
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def key_path(parts) -> str:
    """``['claims', 2, 'pattern']`` -> ``claims[2].pattern``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


class ReadinessError(Exception):
    """Input the gate cannot judge. ``str()`` is the one line a user reads."""

    def __init__(self, file: Path | str | None, message: str, *, line: int | None = None, key: str | None = None,
                 column: int | None = None):
        self.file = relative(file) if file is not None else None
        self.line = line
        self.column = column
        self.key = key
        self.message = message
        where = self.file or ""
        if where and line is not None:
            where += f":{line}" + (f":{column}" if column is not None else "")
        parts = [p for p in (where, key, message) if p]
        super().__init__(": ".join(parts))

    def __reduce__(self):
        # Pickled whole (a forked job of the gate hands its error back): the default would call __init__ with the
        # joined text alone.
        return _restore, (type(self), self.args, self.__dict__)


def _restore(cls: type, args: tuple, state: dict) -> ReadinessError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class PolicyError(ReadinessError):
    """A policy file is missing, unreadable or does not match its schema."""


class TenantDataError(ReadinessError):
    """A tenant file is missing, malformed or does not match its documented shape."""


class OptionError(ReadinessError):
    """A command-line option names something that does not exist or is not available."""

    def __init__(self, message: str):
        super().__init__(None, message)
