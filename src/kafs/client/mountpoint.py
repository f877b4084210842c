"""Mount point texts and which volume type crossing one leads to.

A mount point is a symlink-type vnode without execute bits whose text is
``#[cell:]volume.`` (a regular mount point) or ``%[cell:]volume.`` (a
read-write one).  Crossing rules (OpenAFS's, see ``fs help mkmount``):

1. a name ending in ``.readonly`` or ``.backup`` means that volume;
2. ``%`` means the read-write volume;
3. ``#`` from a read-only (or backup) volume, or into another cell, means
   the read-only volume when the volume has one, else the read-write;
4. ``#`` from a read-write volume of the same cell means the read-write.
"""

from __future__ import annotations

from typing import NamedTuple

from .types import ROVOL, RWVOL
from .volumes import split_volume_name


class MountPoint(NamedTuple):
    kind: str              # "#" or "%"
    cell: str | None       # as written, None for "this cell"
    volume: str            # as written (may end in .readonly/.backup, may be an id)

    def text(self) -> str:
        return "%s%s%s." % (self.kind, (self.cell + ":") if self.cell else "", self.volume)


def parse(text: bytes | str) -> MountPoint | None:
    """The mount point a symlink text names, or None if it is not one."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if len(text) < 3 or text[0] not in "#%" or not text.endswith("."):
        return None
    body = text[1:-1]
    cell = None
    if ":" in body:
        cell, body = body.split(":", 1)
        if not cell or ":" in body:
            return None
    if not body or "/" in body:
        return None
    return MountPoint(text[0], cell, body)


def wanted_type(mp: MountPoint, *, from_read_only: bool, same_cell: bool,
                has_ro: bool) -> int:
    """The volume type to use for ``mp`` (rules above)."""
    _, suffix = split_volume_name(mp.volume)
    if suffix is not None:
        return suffix
    if mp.kind == "%":
        return RWVOL
    if (from_read_only or not same_cell) and has_ro:
        return ROVOL
    return RWVOL
