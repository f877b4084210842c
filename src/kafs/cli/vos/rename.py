"""vos rename: rename a volume in the VLDB and on its servers (vos.c
RenameVolume, vsprocs.c UV_RenameVolume)."""

from __future__ import annotations

from ._common import (Done, diag, done_json as to_json, is_numeric, name_ok,  # noqa: F401
                      outcome_exit as exit_code, print_error, reporter, run_async, session,
                      valid_name)


async def _run(args) -> Done:
    from kafs.api import vldb, volops
    r = reporter(args)
    old, new = args.oldname, args.newname
    d = Done(oldname=old, newname=new, id=None)
    async with await session(args) as s:
        e, code = await volops._c(vldb.get_entry(s, old))
        if code:
            r.err("vos: Could not find entry for volume %s\n" % old)
            r.err(print_error(code))
            return d.fail(code, status=1)
        d.info["id"] = e.rw_id
        e2, code = await volops._c(vldb.get_entry(s, new))
        if code and code != volops.VL_NOENT:
            r.err("vos: Could not check entry for volume %s\n" % new)
            r.err(print_error(code))
            return d.fail(code, status=1)
        if not code and e.rw_id != e2.rw_id:
            r.err("vos: Cannot rename volume %s (%u) to %s; volume %s (%u) already exists\n"
                  % (old, e.rw_id, new, new, e2.rw_id))
            return d.fail(status=1)
        if not name_ok(old):
            r.err("Illegal volume name %s, should not end in .readonly or .backup\n" % old)
            return d.fail(status=1)
        if not valid_name(new):
            r.err("vos: the new volume name %s exceeds the size limit of %d\n"
                  % (new, volops.VOLSER_OLDMAXVOLNAME - 10))
            return d.fail(status=1)
        if not name_ok(new):
            r.err("Illegal volume name %s, should not end in .readonly or .backup\n" % new)
            return d.fail(status=1)
        if is_numeric(new):
            r.err("Illegal volume name %s, should not be a number\n" % new)
            return d.fail(status=1)
        try:
            await volops.rename_volume(s, r, e, old, new)
        except volops.VolOpError as ex:
            diag(r, "rename", ex.code)
            return d.fail(ex.code, status=1)
    r.out("Renamed volume %s to %s\n" % (old, new))
    return d


def run(args):
    return run_async(_run, args)


def render(r, args) -> None:
    pass
