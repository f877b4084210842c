"""What the chunk-store tests and their child processes both do: the
deterministic data of a chunk, and one random operation on a store.
Imports nothing but the store, so a child process starts quickly."""

from __future__ import annotations

import hashlib

CS = 4096


def data_for(ck, size=None) -> bytes:
    """Deterministic chunk data of a (key, dv, index), 0..CS bytes."""
    h = hashlib.blake2b(repr(ck).encode()).digest()
    if size is None:
        size = int.from_bytes(h[:4], "big") % (CS + 1)
    return (h * (size // len(h) + 1))[:size]


def random_op(s, rnd, keys, dvs: int, indexes: int, p_put: float) -> None:
    """A put (probability ``p_put``), an invalidate (5%) or else a get,
    checked: a get is exact or None."""
    ck = (rnd.choice(keys), rnd.randrange(dvs), rnd.randrange(indexes))
    r = rnd.random()
    if r < p_put:
        s.put(*ck, data_for(ck))
    elif r < 0.95:
        got = s.get(*ck)
        assert got is None or got == data_for(ck), ck
    else:
        s.invalidate(ck[0], keep_dv=ck[1])
