"""Rendering helpers: ``-json`` output and small pieces of OpenAFS text.

A subcommand returns a result object; in text mode its module's
``render(result, args)`` prints OpenAFS's exact text, with ``-json`` the
framework prints :func:`dumps` of the module's ``to_json(result)`` (or of
the result itself, converted by :func:`to_jsonable`).

JSON conventions: one JSON document per invocation on stdout, followed by
a newline; keys in declaration order; dataclasses and objects with
``__slots__`` become objects; ``bytes`` become lower-case hex strings;
enums their name; ``datetime`` ISO 8601 strings; sets sorted lists.
"""

from __future__ import annotations

import sys

__all__ = ["to_jsonable", "dumps", "write_json", "ctime", "com_err_line"]


def to_jsonable(obj):
    """Convert ``obj`` into plain JSON types (dict, list, str, int, float,
    bool, None)."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        if hasattr(obj, "_asdict"):                 # namedtuple
            return {k: to_jsonable(v) for k, v in obj._asdict().items()}
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return [to_jsonable(v) for v in sorted(obj, key=repr)]
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return bytes(obj).hex()
    tj = getattr(obj, "to_json", None)
    if callable(tj):
        return to_jsonable(tj())
    mod = type(obj).__module__
    if mod == "enum" or hasattr(type(obj), "__members__"):
        return getattr(obj, "name", str(obj))
    if mod == "datetime":
        return obj.isoformat()
    fields = getattr(obj, "__dataclass_fields__", None)
    if fields is None and "__slots__" in type(obj).__dict__:
        fields = getattr(type(obj), "__match_args__", None)   # kafs.rpc structs
    if fields is not None:
        return {k: to_jsonable(getattr(obj, k)) for k in fields}
    slots = []
    for cls in type(obj).__mro__:
        s = cls.__dict__.get("__slots__", ())
        slots.extend([s] if isinstance(s, str) else s)
    if slots:
        return {k: to_jsonable(getattr(obj, k)) for k in slots
                if not k.startswith("_") and hasattr(obj, k)}
    if hasattr(obj, "__dict__"):
        return {k: to_jsonable(v) for k, v in vars(obj).items()
                if not k.startswith("_")}
    return str(obj)


def dumps(obj) -> str:
    import json
    return json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False)


def write_json(obj, out=None) -> None:
    (out or sys.stdout).write(dumps(obj) + "\n")


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
           "Oct", "Nov", "Dec")


def ctime(t: float) -> str:
    """C's ``ctime()`` in local time, without the trailing newline:
    ``Thu Jan  1 00:00:00 1970``."""
    import time
    tm = time.localtime(t)
    return "%s %s %2d %02d:%02d:%02d %d" % (
        _DAYS[tm.tm_wday], _MONTHS[tm.tm_mon - 1], tm.tm_mday, tm.tm_hour,
        tm.tm_min, tm.tm_sec, tm.tm_year)


def com_err_line(whoami: str | None, code: int, text: str | None = None,
                 tables=None) -> str:
    """What OpenAFS's ``afs_com_err(whoami, code, fmt...)`` writes to stderr
    (``whoami: <message> <text>\\n\\r``; the message is looked up in the
    com_err tables, only in ``tables`` if given: the tables the C tool
    registered)."""
    out = ""
    if whoami:
        out += whoami + ": "
    if code:
        from kafs.errors.tables import error_message
        out += error_message(code, tables) + " "
    if text:
        out += text
    return out + "\n\r"
