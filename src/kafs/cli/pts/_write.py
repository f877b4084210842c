"""Shared pieces of the pts commands that change the database."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafs.api.pts import PR_MAXNAMELEN, lower
from kafs.cli.pts import com_err, err, error_code, out, pts_api

EINVAL = 22
RXGEN_CC_MARSHAL = -450


@dataclass
class Done:
    """What a write command did: one dict per operation (``ok`` and, after
    a failure, ``error``), and the C function's return code."""

    items: list = field(default_factory=list)
    code: int = 0


def printer(args):
    """stdout for pts's printf lines, None with -json (nothing printed)."""
    return None if args.json else out(args)


def forced(args) -> str:
    return "(ignored)" if args.force else ""


def fits(name: str) -> bool:
    """ptuser.c's check_length passes (so the name was lower-cased in place)."""
    b = name.encode("utf-8", "surrogateescape")
    return len(b.split(b"\0", 1)[0]) < PR_MAXNAMELEN


def as_looked_up(name: str) -> str:
    """The caller's string after pr_SNameToId/pr_CreateUser: stolower'd in
    place once the length check passed."""
    return lower(name) if fits(name) else name


def failed(args, item: dict, exc: BaseException, text: str) -> int:
    """Print afs_com_err(whoami, code, text) and record the error."""
    from kafs.errors.tables import error_message
    code = marshal_code(exc)
    com_err(args, code, text)
    item["ok"] = False
    item["error"] = {"code": code, "message": error_message(code)}
    return code


def marshal_code(exc: BaseException) -> int:
    """error_code, plus RXGEN_CC_MARSHAL (-450) for an argument the XDR
    encoder refused (a string over its bound), as the rxgen stub says."""
    from kafs.xdr import EncodeError
    if isinstance(exc, EncodeError):
        return RXGEN_CC_MARSHAL
    return error_code(exc)


def given_id(args, res: Done, s: str, kind: str) -> int | None:
    """CreateUser's/CreateGroup's check of one -id word (``kind`` "user":
    positive, "group": negative): the id, or None after pts's message, with
    the code in ``res``."""
    from kafs.cli.pts._names import PRBADARG, get_int32
    id = get_int32(s)
    if id is None:
        res.code = -1
        com_err(args, -1, "because %s was: '%s'" % ("group id" if kind == "group" else "id", s))
        return None
    if id == 0:
        err(args).write("0 isn't a valid %s id; aborting\n" % kind)
        res.code = EINVAL
        return None
    if (id > 0) if kind == "group" else (id < 0):
        res.code = PRBADARG
        com_err(args, PRBADARG, "because %s id %d was not %s"
                % (kind, id, "negative" if kind == "group" else "positive"))
        return None
    return id


def stop(args, res: Done, item: dict, exc: BaseException, text: str) -> bool:
    """A failed operation: print and record it (failed()); True if the
    command ends there (no -force), with its code in ``res``."""
    code = failed(args, item, exc, text)
    if not args.force:
        res.code = code
        return True
    return False


async def each_user_group(args, call, text: str) -> Done:
    """adduser/removeuser: ``call(user, group)`` for every -user and
    -group; ``text % (user, group, forced)`` on failure."""
    p = pts_api(args)
    res = Done()
    for u in args.user:
        for g in args.group:
            item = {"user": u, "group": g, "ok": True}
            res.items.append(item)
            try:
                await call(p, u, g)
            except Exception as x:      # noqa: BLE001
                if stop(args, res, item, x, text % (u, g, forced(args))):
                    return res
    return res


async def change(args, item: dict, newowner: bool, text: str) -> Done:
    """chown/rename: one change_entry; ``text % shown`` on failure."""
    res = Done()
    res.items.append(item)
    shown = list(item.values())[:2]     # the name, the owner or new name
    try:
        await change_entry(pts_api(args), shown, item, newowner)
    except Exception as x:              # noqa: BLE001
        res.code = failed(args, item, x, text % tuple(shown))
    return res


def to_json(res):
    return res.items


def exit_code(res):
    return res.code


__all__ = ["Done", "printer", "forced", "fits", "as_looked_up", "failed", "stop",
           "to_json", "exit_code", "EINVAL"]


async def change_entry(p, shown: list, item: dict, newowner: bool) -> None:
    """pr_ChangeEntry as ChownGroup (``newowner``: shown[1] is the new
    owner) or ChangeName (shown[1] is the new name) call it.  ``shown``
    is updated as the C strings are lower-cased in place, for the error
    message; ``item`` gets the ids."""
    from kafs.api.pts import ANONYMOUSID, PRNOENT
    from kafs.errors import AFSError
    old = shown[0]
    fit = fits(old)
    try:
        id = await p.sname_to_id(old)
    finally:
        if fit:
            shown[0] = item[next(iter(item))] = lower(old)
    if id == ANONYMOUSID:
        raise AFSError(PRNOENT)
    item["id"] = id
    oid = 0
    if newowner:
        owner = shown[1]
        if owner:
            fit = fits(owner)
            try:
                oid = await p.sname_to_id(owner)
            finally:
                if fit:
                    shown[1] = item["owner"] = lower(owner)
            if oid == ANONYMOUSID:
                raise AFSError(PRNOENT)
            item["owner_id"] = oid
        await p.change_entry_id(id, "", oid, 0)
    else:
        await p.change_entry_id(id, shown[1], 0, 0)
