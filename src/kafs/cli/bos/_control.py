"""Shared pieces of the instance-control commands (start, stop, startup,
shutdown, restart)."""

from __future__ import annotations

from kafs.cli.bos import em, say
from kafs.cli.bos._write import attempt


def wait_after(args):
    """With -wait: BOZO_WaitAll on the same connection, as one more
    operation (``{"instance": null, "wait": true}``)."""
    if not getattr(args, "wait", False):
        return None

    async def after(bos, res):
        code = await attempt(res, {"instance": None, "wait": True}, bos.wait_all())
        if code:
            say(args, "bos: can't wait for processes to shutdown (%s)\n" % em(code))
    return after


async def all_or_each(args, all_call, all_text, one_call, one_text):
    """No -instance: one call for every instance (``{"instance": null}``);
    else one per instance.  bos returns 0 whatever happened."""
    from kafs.cli.bos._write import each

    if args.instance:
        res = await each(args, args.instance, one_call,
                         lambda n, code: one_text % (n, em(code)), key="instance",
                         after=wait_after(args))
    else:
        async def after(bos, res):
            code = await attempt(res, {"instance": None}, all_call(bos))
            if code:
                say(args, all_text % em(code))
            w = wait_after(args)
            if w is not None:
                await w(bos, res)
        res = await each(args, [], None, None, after=after)
    return res
