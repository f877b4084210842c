"""bos status: StatServer / IStatServer / DoStat (bos.c)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafs.cli.bos import connect, em, error_code, out, run_async, say

BZDOM = 39429
BOZO_HASCORE, BOZO_ERRORSTOP, BOZO_BADDIRACCESS = 1, 2, 4
SIGTERM = 15


@dataclass
class Status:
    instances: list = field(default_factory=list)   # kafs.api.bos.InstanceStatus
    long: bool = False


def _fmt(st, longp: int, first: bool) -> str:
    from kafs.cli.render import ctime
    i = st.info
    o = []
    if first and longp and (i.flags & BOZO_BADDIRACCESS):
        o.append("Bosserver reports inappropriate access on server directories\n")
    o.append("Instance %s, " % i.name)
    if longp:
        o.append("(type is %s) " % i.type)
    if i.file_goal == i.goal:
        if not i.goal:
            o.append("disabled, ")
    else:
        o.append("temporarily disabled, " if i.file_goal else "temporarily enabled, ")
    if i.flags & BOZO_ERRORSTOP:
        o.append("stopped for too many errors, ")
    if i.flags & BOZO_HASCORE:
        o.append("has core file, ")
    if st.status is not None:
        o.append("currently ")
        o.append({1: "running normally.\n", 0: "shutdown.\n", 3: "starting up.\n",
                  2: "shutting down.\n"}.get(st.status, ""))
        if st.description:
            o.append("    Auxiliary status is: %s.\n" % st.description)
    if not longp:
        return "".join(o)
    if i.proc_start_time:
        o.append("    Process last started at %s (%d proc starts)\n"
                 % (ctime(i.proc_start_time), i.proc_starts))
    if i.last_any_exit:
        o.append("    Last exit at %s\n" % ctime(i.last_any_exit))
    if i.last_error_exit:
        o.append("    Last error exit at %s, " % ctime(i.last_error_exit))
        if st.error_name:
            o.append("by %s, " % st.error_name)
        if i.error_signal:
            if i.error_signal == SIGTERM:
                o.append("due to shutdown request\n")
            else:
                o.append("due to signal %d\n" % i.error_signal)
        else:
            o.append("by exiting with code %d\n" % i.error_code)
    if longp > 1:
        for n, c in enumerate(st.commands):
            o.append("    Command %d is '%s'\n" % (n + 1, c))
        if st.notifier is not None:
            o.append("    Notifier  is '%s'\n" % st.notifier)
        o.append("\n")
    return "".join(o)


async def _run(args, o):
    c = await connect(args)
    res = Status(long=bool(args.long))
    longp = 2 if args.long else 0
    try:
        if args.instance:
            names = list(args.instance)
        else:
            names = None
        i = 0
        first = True
        while True:
            if names is None:
                try:
                    name = await c.bos.instance_name(i)
                except Exception as x:  # noqa: BLE001
                    code = error_code(x)
                    if code != BZDOM:
                        say(args, "bos: failed to contact host's bosserver (%s).\n"
                            % em(code))
                    break
            else:
                if i >= len(names):
                    break
                name = names[i]
            try:
                st = await c.bos.instance_status(name, long=bool(longp))
            except Exception as x:      # noqa: BLE001
                say(args, "bos: failed to get instance info for '%s' (%s)\n"
                    % (name, em(error_code(x))))
            else:
                if st.status_error:
                    say(args, "bos: failed to get status for instance '%s' (%s)\n"
                        % (name, em(st.status_error)))
                res.instances.append(st)
                if o is not None:
                    o.write(_fmt(st, longp, first))
            # StatServer: first == (i == 0); IStatServer: only the first name
            first = False
            i += 1
    finally:
        await c.session.close()
    return res


def run(args):
    return run_async(_run(args, None if args.json else out(args)))


def render(res, args):
    pass


def to_json(res):
    rows = []
    for st in res.instances:
        i = st.info
        d = {"name": i.name, "type": i.type, "status": st.status_text,
             "status_code": st.status, "auxiliary_status": st.description or None,
             "goal": i.goal, "file_goal": i.file_goal, "flags": i.flags}
        if res.long:
            d.update({"proc_start_time": i.proc_start_time or None,
                      "proc_starts": i.proc_starts,
                      "last_exit_time": i.last_any_exit or None,
                      "last_error_exit_time": i.last_error_exit or None,
                      "error_name": st.error_name, "error_code": i.error_code,
                      "error_signal": i.error_signal,
                      "commands": st.commands, "notifier": st.notifier})
        rows.append(d)
    return rows
