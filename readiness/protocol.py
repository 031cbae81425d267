"""The sandbox validation protocol: sessions against ServiceTitan's integration environment.

Offline (``--sandbox off``) no session can be opened: protocol scenarios are
pending. The client and the local simulator arrive with the sandbox protocol work.
"""

from __future__ import annotations

from .errors import OptionError


def open_session(mode: str, test: dict):
    raise OptionError(f"protocol test {test['id']}: no sandbox session can be opened in --sandbox {mode}")
