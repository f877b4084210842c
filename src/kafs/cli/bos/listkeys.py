"""bos listkeys: ListKeys (bos.c)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafs.cli.bos import connect, em, error_code, out, run_async, say

BZDOM = 39429


@dataclass
class Keys:
    keys: list = field(default_factory=list)        # kafs.api.bos.KeyInfo
    code: int = 0


async def _run(args):
    c = await connect(args, encrypt=True)
    res = Keys()
    try:
        while True:
            try:
                res.keys.append(await c.bos.key(len(res.keys)))
            except Exception as x:  # noqa: BLE001
                res.code = error_code(x)
                break
    finally:
        await c.session.close()
    return res


def run(args):
    return run_async(_run(args))


def _bytes(b: bytes) -> str:
    """ka_PrintBytes: every byte as \\ooo."""
    return "".join("\\%03o" % x for x in b)


def render(res, args):
    from kafs.cli.render import ctime
    o = out(args)
    for k in res.keys:
        if any(k.key) and args.showkey:
            o.write("key %d is '%s'\n" % (k.kvno, _bytes(k.key)))
        elif k.checksum == 0:
            o.write("key version is %d\n" % k.kvno)
        else:
            o.write("key %d has cksum %u\n" % (k.kvno, k.checksum))
    if res.keys:
        o.write("Keys last changed on %s.\n" % ctime(res.keys[-1].mod_sec))
    if res.code != BZDOM:
        say(args, "bos: %s error encountered while listing keys\n" % em(res.code))
    else:
        o.write("All done.\n")


def to_json(res):
    return {"keys": [{"kvno": k.kvno, "checksum": k.checksum,
                      "mod_time": k.mod_sec} for k in res.keys],
            **({"error": {"code": res.code, "message": em(res.code)}}
               if res.code != BZDOM else {})}
