"""Named random streams: every random draw of a run comes from the stream of a name.

`stream(seed, key)` depends on the seed and the key only, so a group's bootstrap draws,
or an image's noise, are the same on every run, machine and worker, whatever the order of
work. It lives apart from the bootstrap (numpy only) so that a worker perturbing images
needs neither scipy nor pandas.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import numpy as np


def stream(seed: int, key: Sequence[str]) -> np.random.Generator:
    """The random stream of one named group: a function of the seed and the name only."""
    digest = hashlib.blake2b(
        json.dumps([str(part) for part in key], ensure_ascii=False).encode("utf-8"),
        digest_size=16,
    ).digest()
    words = tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=words))


__all__ = ["stream"]
