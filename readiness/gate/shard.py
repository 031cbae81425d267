"""Sharded runs: ``--shard K/N`` judges a deterministic 1/N of the tenants, so a CI matrix covers them all.

A tenant's shard comes from a SHA-256 of its slug, never from the order or number of
folders, so adding a tenant moves no other tenant between shards. Scenarios that judge
the product rather than a tenant run in shard 1 only, so a merged report counts them once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from readiness.core.errors import OptionError

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def shard_of(slug: str, count: int) -> int:
    """The 1-based shard a tenant belongs to among ``count`` shards."""
    return int.from_bytes(hashlib.sha256(slug.encode("utf-8")).digest()[:8], "big") % count + 1


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    @classmethod
    def parse(cls, text: str) -> "Shard":
        match = _SPEC.match(text or "")
        if not match:
            raise OptionError(f"--shard {text}: expected K/N, e.g. --shard=2/4 (shard 2 of 4)")
        index, count = int(match[1]), int(match[2])
        if count < 1 or not 1 <= index <= count:
            raise OptionError(f"--shard {text}: K must be between 1 and N (N at least 1)")
        return cls(index, count)

    def holds(self, slug: str) -> bool:
        return shard_of(slug, self.count) == self.index

    @property
    def runs_product(self) -> bool:
        """Product-level (non-tenant) scenarios run in shard 1 only."""
        return self.index == 1

    def to_dict(self) -> dict[str, int]:
        return {"index": self.index, "count": self.count}

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
