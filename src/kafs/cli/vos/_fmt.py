"""OpenAFS vos's text formats (vos.c / vsprocs.c printf strings), as
functions returning strings: VLDB entries (``EnumerateEntry``,
``PrintLocked``), volume headers (``DisplayFormat``, ``DisplayFormat2``,
``XDisplayFormat``, ``XDisplayFormat2``)."""

from __future__ import annotations

from kafs.cli.render import ctime as _ctime
from kafs.api.vldb import (VLF_BACKEXISTS, VLF_ROEXISTS, VLF_RWEXISTS, VLOP_ALLOPERS,
                           VLSF_DONTUSE, VLSF_NEWREPSITE, VLSF_RWVOL, host_name,
                           inet_ntoa, partition_name)

VOK = 0x02
VBUSY = 110


def _s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - 0x100000000 if v & 0x80000000 else v


def _u32(v: int) -> int:
    return v & 0xFFFFFFFF


def ctime(t: int) -> str:
    """C ``ctime(&t)`` of a signed 32-bit time, with its newline."""
    return _ctime(_s32(t)) + "\n"


def _lx(v: int) -> str:
    v = _u32(v)
    return "0x%x" % v if v else "0"


_pn_cache: dict[int, str] = {}


def pname(part: int) -> str:
    n = _pn_cache.get(part)
    if n is None:
        n = _pn_cache[part] = partition_name(part)
    return n


# --------------------------------------------------------------------------
# VLDB entries
# --------------------------------------------------------------------------

def _entry_head(e) -> str:
    """The id line and site count of ``SubEnumerateEntry``."""
    f = e.flags
    t = ""
    if f & VLF_RWEXISTS:
        t += "    RWrite: %-10u" % e.rw_id
    if f & VLF_ROEXISTS:
        t += "    ROnly: %-10u" % e.ro_id
    if f & VLF_BACKEXISTS:
        t += "    Backup: %-10u" % e.bk_id
    if e.clone_id != 0 and f & VLF_ROEXISTS:
        t += "    RClone: %-10u" % e.clone_id
    return t + "\n    number of sites -> %u\n" % _u32(e.n_servers)


def _mixed(e) -> bool:
    return any(s.flags & VLSF_NEWREPSITE for s in e.sites)


def sub_enumerate(e, noresolve: bool) -> str:
    """``SubEnumerateEntry``."""
    mixed = _mixed(e)
    return _entry_head(e) + "".join(_site_line(s, mixed, noresolve) for s in e.sites)


def enumerate_entry(e, noresolve: bool) -> str:
    """``EnumerateEntry``."""
    return "\n%s \n" % e.name + sub_enumerate(e, noresolve)


def _site_line(s, mixed: bool, noresolve: bool) -> str:
    host = inet_ntoa(s.server) if noresolve else host_name(s.server)
    line = "       server %s partition %s " % (host, pname(s.partition))
    line += "RW Site " if s.flags & VLSF_RWVOL else "RO Site "
    if mixed:
        if s.flags & VLSF_NEWREPSITE:
            line += " -- New release"
        elif not s.flags & VLSF_RWVOL:
            line += " -- Old release"
    elif s.flags & VLSF_DONTUSE:
        line += " -- Not released"
    return line + "\n"


def enumerate_entries(entries, noresolve: bool) -> list[str]:
    """``EnumerateEntry`` + ``PrintLocked`` of each entry (what
    ``enumerate_entry(e) + print_locked(e.flags)`` gives), for a listing:
    the site lines, which repeat from entry to entry, are made once."""
    lines: dict = {}
    out = []
    for e in entries:
        t = "\n" + e.name + " \n" + _entry_head(e)
        mixed = _mixed(e)
        for s in e.sites:
            key = (s.server, s.partition, s.flags, mixed)
            line = lines.get(key)
            if line is None:
                line = lines[key] = _site_line(s, mixed, noresolve)
            t += line
        if e.flags & VLOP_ALLOPERS:
            t += print_locked(e.flags)
        out.append(t)
    return out


def print_locked(flags: int) -> str:
    """``PrintLocked``."""
    f = flags & VLOP_ALLOPERS
    if not f:
        return ""
    s = "    Volume is currently LOCKED  \n"
    if f & 0x10:
        s += "    Volume is locked for a move operation\n"
    if f & 0x20:
        s += "    Volume is locked for a release operation\n"
    if f & 0x40:
        s += "    Volume is locked for a backup operation\n"
    if f & 0x80:
        s += "    Volume is locked for a delete/misc operation\n"
    if f & 0x100:
        s += "    Volume is locked for a dump/restore operation\n"
    return s


# --------------------------------------------------------------------------
# volume headers
# --------------------------------------------------------------------------

_T = {0: "RW ", 1: "RO ", 2: "BK "}


class Counts:
    __slots__ = ("ok", "notok", "busy", "busy_ids", "notok_ids")

    def __init__(self):
        self.ok = self.notok = self.busy = 0
        self.busy_ids: list[int] = []
        self.notok_ids: list[int] = []

    def online(self, v) -> None:
        """An attached volume: on-line (in use) or off-line."""
        if v.in_use == 1:
            self.ok += 1
        else:
            self.notok += 1

    def unusable(self, v, out: list, disp: bool, busy: str, notok: str) -> None:
        """A volume not attached: busy (VBUSY) or unattachable, counted and
        (``disp``) ``busy``/``notok`` % its id added to ``out``."""
        if v.status == VBUSY:
            self.busy += 1
            self.busy_ids.append(v.volid)
            text = busy
        else:
            self.notok += 1
            self.notok_ids.append(v.volid)
            text = notok
        if disp:
            out.append(text % _u32(v.volid))


def _long(out: list, v, server: int, part: int) -> None:
    """The -long lines of an attached volume (DisplayFormat/XDisplayFormat)."""
    out.append("    %s %s \n" % (host_name(server), pname(part)))
    out.append("    RWrite %10u ROnly %10u Backup %10u \n" % (
        _u32(v.parent_id), _u32(v.clone_id), _u32(v.backup_id)))
    out.append("    MaxQuota %10d K \n" % _s32(v.maxquota))
    out.append("    Creation    " + ctime(v.creation_date))
    out.append("    Copy        " + ctime(v.copy_date))
    out.append("    Backup      Never\n" if not v.backup_date
               else "    Backup      " + ctime(v.backup_date))
    if v.access_date:
        out.append("    Last Access " + ctime(v.access_date))
    out.append("    Last Update Never\n" if not v.update_date
               else "    Last Update " + ctime(v.update_date))
    out.append("    %d accesses in the past day (i.e., vnode references)\n"
               % _s32(v.day_use))


def display_format(v, server: int, part: int, c: Counts, fast: bool, longlist: bool,
                   disp: bool) -> str:
    """``DisplayFormat`` (volintInfo)."""
    if fast:
        return "%-10u\n" % _u32(v.volid)
    out = []
    if v.status == VOK:
        out.append("%-32s %10u %s%10d K %s%s%s\n" % (
            v.name, _u32(v.volid), _T.get(v.type, ""), _s32(v.size),
            " " if longlist else "",
            "On-line" if v.in_use == 1 else "Off-line",
            "**needs salvage**" if v.needs_salvaged == 1 else ""))
        c.online(v)
        if longlist:
            _long(out, v, server, part)
    else:
        c.unusable(v, out, disp, "**** Volume %u is busy ****\n",
                   "**** Could not attach volume %u ****\n")
    if longlist:
        out.append("\n")
    return "".join(out)


def xdisplay_format(v, server: int, part: int, c: Counts, fast: bool, longlist: bool,
                    disp: bool) -> str:
    """``XDisplayFormat`` (volintXInfo)."""
    if fast:
        return "%-10u\n" % _u32(v.volid)
    out = []
    if longlist:
        if v.status == VOK:
            out.append("%-32s %10u %s%10d K used %d files %s\n" % (
                v.name, _u32(v.volid), _T.get(v.type, ""), _s32(v.size),
                _s32(v.filecount), "On-line" if v.in_use == 1 else "Off-line"))
            c.online(v)
            _long(out, v, server, part)
            r, w = v.stat_reads, v.stat_writes
            out.append(
                "\n                      Raw Read/Write Stats\n"
                "          |-------------------------------------------|\n"
                "          |    Same Network     |    Diff Network     |\n"
                "          |----------|----------|----------|----------|\n"
                "          |  Total   |   Auth   |   Total  |   Auth   |\n"
                "          |----------|----------|----------|----------|\n")
            out.append("Reads     | %8d | %8d | %8d | %8d |\n" % tuple(_s32(x) for x in r[:4]))
            out.append("Writes    | %8d | %8d | %8d | %8d |\n" % tuple(_s32(x) for x in w[:4]))
            out.append(
                "          |-------------------------------------------|\n\n"
                "                   Writes Affecting Authorship\n"
                "          |-------------------------------------------|\n"
                "          |   File Authorship   | Directory Authorship|\n"
                "          |----------|----------|----------|----------|\n"
                "          |   Same   |   Diff   |    Same  |   Diff   |\n"
                "          |----------|----------|----------|----------|\n")
            for i, label in enumerate(("0-60 sec ", "1-10 min ", "10min-1hr",
                                       "1hr-1day ", "1day-1wk ", "> 1wk    ")):
                out.append("%s | %8d | %8d | %8d | %8d |\n" % (
                    label, _s32(v.stat_file_same_author[i]), _s32(v.stat_file_diff_author[i]),
                    _s32(v.stat_dir_same_author[i]), _s32(v.stat_dir_diff_author[i])))
            out.append("          |-------------------------------------------|\n")
        else:
            c.unusable(v, out, disp, "**** Volume %u is busy ****\n",
                       "**** Could not attach volume %u ****\n")
        out.append("\n")
        return "".join(out)
    if v.status == VOK:
        out.append("%-32s %10u %s%10d K %s\n" % (
            v.name, _u32(v.volid), _T.get(v.type, ""), _s32(v.size),
            "On-line" if v.in_use == 1 else "Off-line"))
        c.online(v)
    else:
        c.unusable(v, out, disp, "**** Volume %u is busy ****\n",
                   "**** Could not attach volume %u ****\n")
    return "".join(out)


def _dates(v, fields) -> str:
    out = []
    for label, t in fields:
        out.append("%s\t%-9u\t%s" % (label, _u32(t), ctime(t)))
    return "".join(out)


def display_format2(v, server: int, part: int) -> str:
    """``DisplayFormat2`` (volintInfo, -format)."""
    out = []
    if v.status == VOK:
        out.append("name\t\t%s\n" % v.name)
    out.append("id\t\t%u\n" % _u32(v.volid))
    out.append("serv\t\t%s\t%s\n" % (inet_ntoa(server), host_name(server)))
    out.append("part\t\t%s\n" % pname(part))
    if v.status == VOK:
        out.append("status\t\tOK\n")
    elif v.status == VBUSY:
        out.append("status\t\tBUSY\n")
        return "".join(out)
    else:
        out.append("status\t\tUNATTACHABLE\n")
        return "".join(out)
    out.append("backupID\t%u\n" % _u32(v.backup_id))
    out.append("parentID\t%u\n" % _u32(v.parent_id))
    out.append("cloneID\t\t%u\n" % _u32(v.clone_id))
    out.append("inUse\t\t%s\n" % ("Y" if v.in_use else "N"))
    out.append("needsSalvaged\t%s\n" % ("Y" if v.needs_salvaged else "N"))
    out.append("destroyMe\t%s\n" % ("Y" if v.destroy_me == 0xD3 else "N"))
    out.append("type\t\t%s\n" % {0: "RW", 1: "RO", 2: "BK"}.get(v.type, "?"))
    out.append(_dates(v, (("creationDate", v.creation_date), ("accessDate", v.access_date),
                          ("updateDate", v.update_date), ("backupDate", v.backup_date),
                          ("copyDate", v.copy_date))))
    out.append("flags\t\t%s\t(Optional)\n" % _lx(v.flags))
    out.append("diskused\t%u\n" % _u32(v.size))
    out.append("maxquota\t%u\n" % _u32(v.maxquota))
    out.append("minquota\t%u\t(Optional)\n" % _u32(v.spare0))
    out.append("filecount\t%u\n" % _u32(v.filecount))
    out.append("dayUse\t\t%u\n" % _u32(v.day_use))
    out.append("weekUse\t\t%u\t(Optional)\n" % _u32(v.spare1))
    out.append("spare2\t\t%u\t(Optional)\n" % _u32(v.spare2))
    out.append("spare3\t\t%u\t(Optional)\n" % _u32(v.spare3))
    return "".join(out)


def xdisplay_format2(v, server: int, part: int, c: Counts, fast: bool, longlist: bool,
                     disp: bool) -> str:
    """``XDisplayFormat2`` (volintXInfo, -format)."""
    if fast:
        return "vold_id\t%-10u\n" % _u32(v.volid)
    out = []
    if longlist:
        if v.status == VOK:
            out.append("name\t\t%s\n" % v.name)
            out.append("id\t\t%u\n" % _u32(v.volid))
            out.append("serv\t\t%s\t%s\n" % (inet_ntoa(server), host_name(server)))
            out.append("part\t\t%s\n" % pname(part))
            out.append("status\t\tOK\n")
            out.append("backupID\t%u\n" % _u32(v.backup_id))
            out.append("parentID\t%u\n" % _u32(v.parent_id))
            out.append("cloneID\t\t%u\n" % _u32(v.clone_id))
            out.append("inUse\t\t%s\n" % ("Y" if v.in_use else "N"))
            out.append("type\t\t%s\n" % {0: "RW", 1: "RO", 2: "BK"}.get(v.type, "?"))
            out.append(_dates(v, (("creationDate", v.creation_date),
                                  ("accessDate", v.access_date),
                                  ("updateDate", v.update_date),
                                  ("backupDate", v.backup_date),
                                  ("copyDate", v.copy_date))))
            out.append("diskused\t%u\n" % _u32(v.size))
            out.append("maxquota\t%u\n" % _u32(v.maxquota))
            out.append("filecount\t%u\n" % _u32(v.filecount))
            out.append("dayUse\t\t%u\n" % _u32(v.day_use))
            r, w = v.stat_reads, v.stat_writes
            for lab, x in (("reads_same_net", r[0]), ("reads_same_net_auth", r[1]),
                           ("reads_diff_net", r[2]), ("reads_diff_net_auth", r[3]),
                           ("writes_same_net", w[0]), ("writes_same_net_auth", w[1]),
                           ("writes_diff_net", w[2]), ("writes_diff_net_auth", w[3])):
                out.append("%s\t%8d\n" % (lab, _s32(x)))
            for i in range(5):
                out.append("file_same_author_idx_%d\t%8d\n" % (i + 1, _s32(v.stat_file_same_author[i])))
                out.append("file_diff_author_idx_%d\t%8d\n" % (i + 1, _s32(v.stat_file_diff_author[i])))
                out.append("dir_same_author_idx_%d\t%8d\n" % (i + 1, _s32(v.stat_dir_same_author[i])))
                out.append("dir_dif_author_idx_%d\t%8d\n" % (i + 1, _s32(v.stat_dir_diff_author[i])))
            if v.in_use == 1:
                pass
        else:
            c.unusable(v, out, disp, "BUSY_VOL\t%u\n",
                       "COULD_NOT_ATTACH\t%u\n")
        return "".join(out)
    if v.status == VOK:
        out.append("name\t%-32s\n" % v.name)
        out.append("volID\t%10u\n" % _u32(v.volid))
        t = {0: "type\tRW\n", 1: "type\tRO\n", 2: "type\tBK\n"}.get(v.type)
        if t:
            out.append(t)
        out.append("size\t%10dK\n" % _s32(v.size))
        out.append("inUse\t%d\n" % v.in_use)
        c.online(v)
    else:
        c.unusable(v, out, disp, "VOLUME_BUSY\t%u\n",
                   "COULD_NOT_ATTACH_VOLUME\t%u\n")
    return "".join(out)
