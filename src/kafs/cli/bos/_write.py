"""Shared pieces of the bos commands that change the server's configuration."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Done:
    """One dict per operation (``ok``, and ``error`` after a failure) and
    the C function's return code."""

    items: list = field(default_factory=list)
    code: int = 0


def error(code: int) -> dict:
    from kafs.cli.bos import em
    return {"code": code, "message": em(code)}


async def each(args, names, call, fail_text, key: str = "name") -> Done:
    """Connect (GetConn(as, 1): encrypted), call ``call(bos, name)`` for
    every name, print ``fail_text(name, code)`` to stderr for failures."""
    from kafs.cli.bos import connect, error_code, say
    c = await connect(args, encrypt=True)
    res = Done()
    try:
        for n in names:
            item = {key: n, "ok": True}
            res.items.append(item)
            try:
                await call(c.bos, n)
            except Exception as x:      # noqa: BLE001
                from kafs.xdr import EncodeError
                code = -450 if isinstance(x, EncodeError) else error_code(x)
                item["ok"] = False
                item["error"] = error(code)
                say(args, fail_text(n, code))
    finally:
        await c.session.close()
    return res


def render(res, args):
    pass


def to_json(res):
    return res.items


def exit_code(res):
    return res.code
