"""bos getlog: GetLogCmd (bos.c) -- the log is streamed as it arrives."""

from __future__ import annotations

from dataclasses import dataclass

from kafs.cli import CommandError
from kafs.cli.bos import com_err, connect, error_code, out, run_async, say


@dataclass
class Log:
    file: str
    text: str = ""


async def _run(args, o):
    res = Log(args.file)
    if o is not None:
        o.write("Fetching log file '%s'...\n" % args.file)
    c = await connect(args, encrypt=True)
    chunks = []
    try:
        async for chunk in c.bos.log_chunks(args.file):
            if o is not None:
                o.buffer.write(chunk) if hasattr(o, "buffer") else \
                    o.write(chunk.decode("utf-8", "surrogateescape"))
            else:
                chunks.append(chunk)
    except Exception as x:          # noqa: BLE001
        code = error_code(x)
        if o is not None:
            o.flush()
        say(args, com_err(code, "(while reading log)"))
        raise CommandError(None, code) from None
    finally:
        await c.session.close()
    res.text = b"".join(chunks).decode("utf-8", "surrogateescape")
    return res


def run(args):
    o = None if args.json else out(args)
    if o is not None and hasattr(o, "buffer"):
        o.flush()
    return run_async(_run(args, o))


def render(res, args):
    pass


def to_json(res):
    return {"file": res.file, "log": res.text}
