"""pts.c's GetNameOrId: turn the -nameorid words into ids and names."""

from __future__ import annotations

from kafs.api.pts import ANONYMOUSID, PRNOENT, lower
from kafs.cli.pts import com_err, err, error_code

PRBADARG = 267273


def get_int32(s: str):
    """util_GetInt32: optional '-', then 0x.. hex, 0.. octal or decimal;
    None if a character does not belong (C returns -1)."""
    i = 0
    while i < len(s) and s[i] in " \t":
        i += 1
    neg = False
    if s[i:i + 1] == "-":
        neg = True
        i += 1
    if s[i:i + 1] == "0":
        i += 1
        if s[i:i + 1] in ("x", "X"):
            base, i = 16, i + 1
        else:
            base = 8
    else:
        base = 10
    total = 0
    for ch in s[i:]:
        try:
            d = int(ch, 16)
        except ValueError:
            return None
        if d >= base:
            return None
        total = (total * base + d) & 0xFFFFFFFF
    if neg:
        total = (-total) & 0xFFFFFFFF
    return total - (1 << 32) if total & 0x80000000 else total


async def name_or_id(args, p, items, want_names: bool = True):
    """Returns ``(ids, names)`` or None (the C function's -1) after printing
    the same errors as pts."""
    names: list[str] = []
    ids: list[int] = []
    for it in items or ():
        code = 0
        tid = None
        try:
            r = await p.name_to_id([it])
            tid = r[0] if r else ANONYMOUSID
        except Exception as e:      # noqa: BLE001 - every failure is a code
            code = error_code(e)
        v = None
        if (code == 0 and tid != ANONYMOUSID) or (v := get_int32(it)) is None:
            names.append(it)
        else:
            ids.append(v)
    good = 0
    code = 0
    lids: list[int] = []
    lnames: list[str] = []
    low = [lower(n) for n in names]
    try:
        tids = await p.name_to_id(names, always=True)
    except Exception as e:          # noqa: BLE001
        code = error_code(e)
        com_err(args, code, "so couldn't look up names")
    else:
        for nm, tid in zip(low, tids):
            if tid == ANONYMOUSID:
                com_err(args, PRNOENT, "so couldn't look up id for %s" % nm)
            else:
                good += 1
            lids.append(tid)
            lnames.append(nm)
    lids += ids
    if not code and want_names:
        try:
            tn = await p.id_to_name(ids, always=True)
        except Exception as e:      # noqa: BLE001
            code = error_code(e)
            com_err(args, code, "translating ids")
        else:
            good += 1
            lnames += tn
    if good == 0:
        code = PRNOENT
    if code:
        return None
    return lids, lnames


async def entries(args, p):
    """The (id, name) pairs of -nameorid that pts's commands go through
    (GetNameOrId, anonymous skipped), or None when GetNameOrId failed (the
    command then returns PRBADARG)."""
    got = await name_or_id(args, p, args.nameorid)
    if got is None:
        return None
    return [(id, name) for id, name in zip(*got) if id != ANONYMOUSID]


def over_limit(args):
    """The warning printed (stderr, flushed) for a list that exceeds the
    display limit."""
    e = err(args)

    def over(id):
        e.write("membership list for id %d exceeds display limit\n" % id)
        e.flush()
    return over
