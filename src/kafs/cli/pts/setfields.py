"""pts setfields: SetFields (pts.c)."""

from __future__ import annotations

from kafs.cli.pts import com_err, err, pts_api, run_async
from kafs.cli.pts._write import Done, exit_code, failed, to_json  # noqa: F401

PRBADARG = 267273
FLAGS_UP = "SOMA "          # pts.c's flags_upcase / flags_dncase / flags_shift
FLAGS_DN = "s mar"
FLAGS_SHIFT = (2, 1, 2, 2, 1)


def scan_octal(s: str) -> int:
    """sscanf(s, "%lo", (unsigned long *)&flags) into an afs_int32: white
    space, a sign, octal digits; nothing read leaves 0; the low 32 bits of
    the unsigned long land in the int (little-endian)."""
    i = 0
    while i < len(s) and s[i] in " \t\n\v\f\r":
        i += 1
    neg = False
    if i < len(s) and s[i] in "+-":
        neg = s[i] == "-"
        i += 1
    j = i
    while j < len(s) and s[j] in "01234567":
        j += 1
    if j == i:
        return 0
    v = int(s[i:j], 8)
    if v >= 1 << 64:
        v, neg = (1 << 64) - 1, False      # strtoul: ULONG_MAX, sign ignored
    if neg:
        v = -v
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def parse_access(access: str):
    """The privacy flags of -access, or the error line pts prints."""
    if any(c in "76543210" for c in access):
        return scan_octal(access), None
    form = "Access bits must be of the form 'somar', not %s\n" % access
    ab = access.encode("utf-8", "surrogateescape")
    if len(ab) != 5:
        return None, form
    if not any(c in "somar-" for c in access):
        return None, form
    flags = 0
    for i in range(5):
        c = chr(ab[i])
        if c == FLAGS_UP[i]:
            new = 2
        elif c == FLAGS_DN[i]:
            new = 1
        elif c == "-":
            new = 0
        else:
            return None, ("Access bits out of order or illegal:\n  must be a combination "
                          "of letters from '%s' or '%s' or hyphen, not %s\n"
                          % (FLAGS_UP, FLAGS_DN, access))
        flags <<= FLAGS_SHIFT[i]
        if FLAGS_SHIFT[i] == 1:
            if new:
                flags |= 1
        else:
            flags |= new
    return flags, None


async def _run(args):
    from kafs.api.pts import ANONYMOUSID, PR_SF_ALLBITS, PR_SF_NGROUPS, flags_string
    from kafs.cli.pts._names import get_int32, name_or_id
    p = pts_api(args)
    res = Done()
    got = await name_or_id(args, p, args.nameorid)
    if got is None:
        res.code = PRBADARG
        return res
    mask = flags = ngroups = 0
    if args.access is not None:
        flags, msg = parse_access(args.access)
        if msg is not None:
            e = err(args)
            e.write(msg)
            e.flush()
            res.code = PRBADARG
            return res
        mask |= PR_SF_ALLBITS
    if args.groupquota is not None:
        ngroups = get_int32(args.groupquota)
        if ngroups is None:
            com_err(args, -1, "because ngroups was: '%s'" % args.groupquota)
            res.code = -1
            return res
        mask |= PR_SF_NGROUPS
    for id, name in zip(*got):
        if id == ANONYMOUSID:
            continue
        item = {"name": name, "id": id, "ok": True}
        if mask & PR_SF_ALLBITS:
            item["flags"] = flags_string(flags)
            item["flags_raw"] = flags
        if mask & PR_SF_NGROUPS:
            item["group_quota"] = ngroups
        res.items.append(item)
        try:
            await p.set_fields(id, mask, flags, ngroups, 0)
        except Exception as x:          # noqa: BLE001
            res.code = failed(args, item, x, "; unable to set fields for %s (id: %d)"
                              % (name, id))
            return res
    return res


def run(args):
    return run_async(args, _run(args))


def render(res, args):
    pass
