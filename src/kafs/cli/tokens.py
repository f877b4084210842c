"""tokens: the tokens of the kafs token store, printed as OpenAFS 1.8.9's
``tokens`` prints the cache manager's (``src/log/tokens.c``)::

    <empty line>
    Tokens held by the Cache Manager:
    <empty line>
    User's (AFS ID 1) rxkad tokens for test.example [Expires Nov 24 21:00]
       --End of list--

Per token: "User's (AFS ID n) rxkad tokens" when the token carries a real
AFS id (odd lifetime), "RxkadTokens" when it does not ("Unix UID n"),
then `` for <cell> `` and ``[Expires <ctime() chars 4-15>]`` or
``[>> Expired <<]``.  Any argument prints ``Usage: tokens [-help]`` and
exits 0, as in OpenAFS; ``-json`` alone (kafs) prints the tokens as JSON
-- cell, AFS id, kvno, times, ticket length; never the key or ticket.
"""

from __future__ import annotations

import sys
import time

from kafs.cli.suites import tokens as D


def token_line(t, now: float) -> str:
    name = t.client_name
    if not name:
        head = "rxkad Tokens"
    elif name.startswith("AFS ID"):
        head = "User's (%s) rxkad tokens" % name
    elif name.startswith("Unix UID"):
        head = "RxkadTokens"
    else:
        head = "User %s's rxkad tokens" % name
    line = head + " for %s " % t.cell
    if t.end <= int(now):
        return line + "[>> Expired <<]\n"
    return line + "[Expires %s]\n" % time.ctime(t.end)[4:16]


def render(tokens, now: float | None = None) -> str:
    now = time.time() if now is None else now
    return D.HEADER + "".join(token_line(t, now) for t in tokens) + D.END


def to_json(tokens, now: float | None = None) -> list[dict]:
    now = time.time() if now is None else now
    return [{"cell": t.cell, "viceid": t.viceid, "afs_id": t.has_afs_id,
             "kvno": t.kvno, "start": t.start, "end": t.end,
             "expired": t.end <= int(now), "ticket_length": len(t.ticket),
             "primary": t.primary, "source": t.source} for t in tokens]


def run(argv: list[str], prog: str = "tokens", out=None, err=None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    if argv and argv != [D.JSON_SWITCH]:
        out.write(D.USAGE)
        out.flush()
        return 0
    from kafs.auth import store
    status = 0
    try:
        toks = store.list_tokens(include_expired=True)
    except store.StoreError as e:
        toks = []
        problem = str(e)
        status = 1
    if argv == [D.JSON_SWITCH]:
        from kafs.cli.render import write_json
        if status:
            err.write("%s: %s\n" % (prog, problem))
        write_json(to_json(toks), out)
        return status
    if status:
        out.write(D.HEADER)
        out.flush()
        err.write("%s: %s\n" % (prog, problem))
        err.flush()
        out.write(D.END)
        return status
    out.write(render(toks))
    return 0


def main() -> int:
    from kafs.cli import main as M
    M._setup_streams()
    prog = M.prog_name(sys.argv[0], "tokens")
    try:
        status = run(sys.argv[1:], prog)
    except Exception as exc:          # noqa: BLE001 - never a traceback
        if M._debug():
            raise
        from kafs.cli.aklog import _one_line
        sys.stderr.write("%s: %s\n" % (prog, _one_line(exc)))
        status = 1
    return M._exit(status)


if __name__ == "__main__":
    sys.exit(main())
