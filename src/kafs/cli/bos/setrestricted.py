"""bos setrestricted: SetRestrict (bos.c) -- BOZO_SetRestrictedMode; bos
exits 0 even when the call failed."""

from __future__ import annotations

from kafs.cli.bos import em, run_async
from kafs.cli.bos._write import each, render  # noqa: F401
from kafs.cli.bos._write import only as to_json  # noqa: F401


def get_int32(text: str) -> int | None:
    """util_GetInt32: [blanks][-](decimal | 0octal | 0xhex), 32-bit
    wrap-around; None if a character does not belong."""
    i = 0
    while i < len(text) and text[i] in " \t":
        i += 1
    neg = text[i:i + 1] == "-"
    if neg:
        i += 1
    base = 10
    if text[i:i + 1] == "0":
        i += 1
        if text[i:i + 1] in ("x", "X"):
            base, i = 16, i + 1
        else:
            base = 8
    total = 0
    for ch in text[i:]:
        try:
            v = int(ch, 16)
        except ValueError:
            return None
        if v >= base:
            return None
        total = (total * base + v) & 0xFFFFFFFF
    if neg:
        total = -total & 0xFFFFFFFF
    return total - (1 << 32) if total & 0x80000000 else total


async def _run(args):
    mode = get_int32(args.mode)
    if mode is None:
        # OpenAFS's bos sends an uninitialised variable for a mode that
        # does not parse (in practice neither 0 nor 1: the server answers
        # BZDOM); ours sends -1, which no server takes
        mode = -1
    res = await each(args, [mode], lambda b, m: b.set_restricted(m),
                     lambda _, code: "bos: failed to set restricted mode (%s)\n" % em(code),
                     key="mode")
    return res


def run(args):
    return run_async(_run(args))
