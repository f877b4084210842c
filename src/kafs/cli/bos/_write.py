"""Shared pieces of the bos commands that change the server's configuration."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Done:
    """One dict per operation (``ok``, and ``error`` after a failure) and
    the C function's return code."""

    items: list = field(default_factory=list)
    code: int = 0

    def last_code(self) -> int:
        """The code of the last operation (bos.c's loops keep only that)."""
        if not self.items or self.items[-1]["ok"]:
            return 0
        return self.items[-1]["error"]["code"]


def error(code: int) -> dict:
    from kafs.cli.bos import em
    return {"code": code, "message": em(code)}


async def attempt(res: Done, item: dict, coro) -> int:
    """Await ``coro`` as one operation of ``res``: 0, or the failure's code
    (also recorded in ``item``)."""
    res.items.append(item)
    item["ok"] = True
    try:
        await coro
    except Exception as x:          # noqa: BLE001
        from kafs.cli.bos import error_code
        code = error_code(x)
        item["ok"] = False
        item["error"] = error(code)
        return code
    return 0


async def each(args, names, call, fail_text, key: str = "name", *, stop: bool = False,
               ok_text=None, after=None, extra=None, conn=None, last: bool = False) -> Done:
    """Connect (GetConn(as, 1): encrypted), call ``call(bos, name)`` for
    every name, print ``fail_text(name, code)`` to stderr for failures
    (and stop after the first one if ``stop``; ``res.code`` is then 1) and
    ``ok_text(name)`` on stdout for successes (not with -json).
    ``after(bos, res)`` runs on the same connection before it is closed;
    ``conn``: a connection already made (it is closed at the end);
    ``last``: ``res.code`` is the last operation's code (bos's loops keep
    only that)."""
    from kafs.cli.bos import connect, out, say
    c = conn if conn is not None else await connect(args, encrypt=True)
    res = Done()
    try:
        for n in names:
            item = {key: n}
            item.update(extra or {})
            code = await attempt(res, item, call(c.bos, n))
            if code:
                say(args, fail_text(n, code))
                if stop:
                    res.code = 1
                    return res
            elif ok_text is not None and not args.json:
                out(args).write(ok_text(n))
        if after is not None:
            await after(c.bos, res)
    finally:
        await c.session.close()
    if last:
        res.code = res.last_code()
    return res


def render(res, args):
    pass


def to_json(res):
    return res.items


def only(res):
    """-json of a command that makes one call: its object."""
    return res.items[0]


def exit_code(res):
    return res.code
