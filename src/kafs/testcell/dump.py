"""Offline edits of an OpenAFS volume dump (``vos dump`` format).

With no cache manager there is no ``fs setacl``, and directory entries can
only be made by a client.  So the test cell sets root ACLs by dumping the
volume, rewriting the 192-byte ACL of the root directory (vnode 1) in the
dump, and restoring it over the volume.  The same pass turns symlinks that
afsd.fuse wrote as ``/afs/#cell:vol.`` (its symlink() prefixes the text with
``/afs/``) into real mount points: text ``#cell:vol.``, mode 0644.

Dump facts (OpenAFS ``src/volser/dumpstuff.c``): a vnode record starts with
tag 3, vnode number and uniquifier (both 32-bit big endian), followed by
one-letter tags of fixed size -- t(1) l(2) v(4) m(4) a(4) o(4) [g(4)] b(2)
p(4) s(4) -- then, for directories, ``A`` + the ACL in network byte order,
then ``f`` + 32-bit length + data (or ``h`` + 64-bit length + data).
"""

from __future__ import annotations

import re
import struct

ACL_SIZE = 192
_FIXED = {b"t": 1, b"l": 2, b"v": 4, b"m": 4, b"a": 4, b"o": 4, b"g": 4,
          b"b": 2, b"p": 4, b"s": 4}

# rights bits (OpenAFS prs_fs.h)
RIGHTS = {"r": 1, "w": 2, "i": 4, "l": 8, "d": 16, "k": 32, "a": 64}
ANYUSER = -101
AUTHUSER = -102
ADMINISTRATORS = -204

_MOUNT_RE = re.compile(rb"^/afs/([#%][^/:]+:[^/]+\.)\x00?$")


class DumpError(ValueError):
    pass


def rights(text: str) -> int:
    n = 0
    for ch in text:
        if ch not in RIGHTS:
            raise ValueError(f"bad rights letter {ch!r}")
        n |= RIGHTS[ch]
    return n


def encode_acl(entries: dict[int, int]) -> bytes:
    """Positive ACL entries {pts id: rights} -> the 192-byte dump form."""
    items = sorted(entries.items())
    body = struct.pack(">5i", 20 + 8 * len(items), 1, len(items), len(items), 0)
    body += b"".join(struct.pack(">iI", i, r) for i, r in items)
    if len(body) > ACL_SIZE:
        raise DumpError("ACL too long")
    return body + b"\0" * (ACL_SIZE - len(body))


def decode_acl(raw: bytes) -> dict[int, int]:
    size, ver, total, pos, neg = struct.unpack_from(">5i", raw)
    if ver != 1 or not 0 <= total <= 20 or pos + neg != total:
        raise DumpError("not an ACL")
    return {i: r for i, r in (struct.unpack_from(">iI", raw, 20 + 8 * k) for k in range(pos))}


def _walk_fixed(d: bytes, p: int) -> tuple[int, int | None]:
    """From just after a vnode header, skip the fixed tags.
    Returns (offset of the next tag, offset of the mode bits or None)."""
    mode = None
    while d[p:p + 1] in _FIXED:
        tag = d[p:p + 1]
        if tag == b"b":
            mode = p + 1
        p += 1 + _FIXED[tag]
    return p, mode


def _root_acl_offset(d: bytes) -> int:
    needle = b"\x03" + struct.pack(">II", 1, 1)
    start = 0
    while True:
        p = d.find(needle, start)
        if p < 0:
            raise DumpError("root directory vnode not found in dump")
        q, _ = _walk_fixed(d, p + 9)
        if d[q:q + 1] == b"A" and q > p + 9:
            try:
                decode_acl(d[q + 1:q + 1 + ACL_SIZE])
                return q + 1
            except (DumpError, struct.error):
                pass
        start = p + 1


def root_acl(d: bytes) -> dict[int, int]:
    p = _root_acl_offset(d)
    return decode_acl(d[p:p + ACL_SIZE])


def set_root_acl(d: bytes, entries: dict[int, int]) -> bytes:
    p = _root_acl_offset(d)
    return d[:p] + encode_acl(entries) + d[p + ACL_SIZE:]


def _symlinks(d: bytes):
    """Yield (mode offset, data tag offset, data length, text) of symlink vnodes."""
    for m in re.finditer(rb"\x03.{8}t\x03", d, re.S):
        q, mode = _walk_fixed(d, m.start() + 9)
        if mode is None or d[q:q + 1] != b"f":
            continue
        (n,) = struct.unpack_from(">I", d, q + 1)
        yield mode, q, n, d[q + 5:q + 5 + n]


def mount_points(d: bytes) -> list[str]:
    """The mount point texts (#cell:vol. / %cell:vol.) in a dump."""
    out = []
    for mode, _q, _n, text in _symlinks(d):
        t = text.rstrip(b"\0")
        if t[:1] in (b"#", b"%") and t.endswith(b".") and (struct.unpack_from(">H", d, mode)[0] & 0o111) == 0:
            out.append(t.decode("utf-8", "replace"))
    return out


def fix_fuse_mount_points(d: bytes) -> tuple[bytes, int]:
    """Turn afsd.fuse's ``/afs/#cell:vol.`` symlinks into mount points."""
    fixes = []
    for mode, q, n, text in _symlinks(d):
        m = _MOUNT_RE.match(text)
        if m:
            fixes.append((mode, q, n, m.group(1)))
    for mode, q, n, mp in reversed(fixes):
        d = d[:q] + b"f" + struct.pack(">I", len(mp)) + mp + d[q + 5 + n:]
        d = d[:mode] + struct.pack(">H", 0o644) + d[mode + 2:]
    return d, len(fixes)
