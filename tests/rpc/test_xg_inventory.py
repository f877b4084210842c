"""Inventory of our .xg interface files, checked without the compiler.

A deliberately small regex scan of ``src/kafs/rpc/*.xg``: per package it
checks the procedure names and opcodes against OpenAFS 1.8.9 (the same
lists as protocol-notes section 4), that every parameter carries an explicit
IN/OUT/INOUT (so nothing depends on rxgen's inherited-direction quirk),
the split/multi markings, statindex, and -- with a tiny fixed-size
evaluator -- the wire sizes of the structures measured in section 3.1.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

RPC_DIR = Path(__file__).resolve().parents[2] / "src" / "kafs" / "rpc"

# ---------------------------------------------------------------------------
# Expected inventory (OpenAFS 1.8.9)

# Declaration order matters: a procedure's position in its package is its
# function index in Rx per-RPC statistics.  Every dict below is in the
# 1.8.9 declaration order; only VL's differs from opcode order.
VL = {
    "ProbeServer": 514, "GetEntryByNameO": 504, "GetEntryByNameN": 519,
    "GetEntryByNameU": 527, "GetAddrsU": 533,
    "CreateEntry": 501, "DeleteEntry": 502, "GetEntryByID": 503,
    "GetNewVolumeId": 505, "ReplaceEntry": 506, "UpdateEntry": 507,
    "SetLock": 508, "ReleaseLock": 509, "ListEntry": 510,
    "ListAttributes": 511, "LinkedList": 512, "GetStats": 513,
    "GetAddrs": 515, "ChangeAddr": 516, "CreateEntryN": 517,
    "GetEntryByIDN": 518, "ReplaceEntryN": 520, "ListEntryN": 521,
    "ListAttributesN": 522, "LinkedListN": 523, "UpdateEntryByName": 524,
    "RegisterAddrs": 532, "ListAttributesN2": 534,
}

PR = {
    "INewEntry": 500, "WhereIsIt": 501, "DumpEntry": 502, "AddToGroup": 503,
    "NameToID": 504, "IDToName": 505, "Delete": 506, "RemoveFromGroup": 507,
    "GetCPS": 508, "NewEntry": 509, "ListMax": 510, "SetMax": 511,
    "ListEntry": 512, "ChangeEntry": 513, "ListElements": 514,
    "IsAMemberOf": 515, "SetFieldsEntry": 516, "ListOwned": 517,
    "GetCPS2": 518, "GetHostCPS": 519, "UpdateEntry": 520,
    "ListEntries": 521, "ListSuperGroups": 530,
}

BOZO = dict(zip(
    "CreateBnode DeleteBnode SetStatus GetStatus EnumerateInstance "
    "GetInstanceInfo GetInstanceParm AddSUser DeleteSUser ListSUsers ListKeys "
    "AddKey DeleteKey SetCellName GetCellName GetCellHost AddCellHost "
    "DeleteCellHost SetTStatus ShutdownAll RestartAll StartupAll "
    "SetNoAuthFlag ReBozo Restart Install UnInstall GetDates Exec Prune "
    "SetRestartTime GetRestartTime GetLog WaitAll GetInstanceStrings "
    "GetRestrictedMode SetRestrictedMode".split(),
    range(80, 117),
))

AFSVOL = dict(zip(
    "CreateVolume DeleteVolume Restore Forward EndTrans Clone SetFlags "
    "GetFlags TransCreate Dump GetNthVolume SetForwarding GetName GetStatus "
    "SignalRestore ListPartitions ListVolumes SetIdsTypes Monitor "
    "PartitionInfo ReClone ListOneVolume NukeVolume SetDate XListVolumes "
    "XListOneVolume SetInfo XListPartitions ForwardMultiple".split(),
    range(100, 129),
))
AFSVOL.update({"ConvertROtoRWvolume": 65536, "GetSize": 65537, "DumpV2": 65538,
               "PartitionInfo64": 65539, "SplitVolume": 65547})

RXAFS = dict(zip(
    "FetchData FetchACL FetchStatus StoreData StoreACL StoreStatus RemoveFile "
    "CreateFile Rename Symlink Link MakeDir RemoveDir OldSetLock OldExtendLock "
    "OldReleaseLock GetStatistics GiveUpCallBacks GetVolumeInfo "
    "GetVolumeStatus SetVolumeStatus GetRootVolume CheckToken GetTime "
    "NGetVolumeInfo BulkStatus SetLock ExtendLock ReleaseLock XStatsVersion "
    "GetXStats Lookup FlushCPS DFSSymlink".split(),
    range(130, 164),
))
RXAFS.update({"FsCmd": 220, "InlineBulkStatus": 65536, "FetchData64": 65537,
              "StoreData64": 65538, "GiveUpAllCallBacks": 65539,
              "GetCapabilities": 65540, "CallBackRxConnAddr": 65541,
              "GetStatistics64": 65542})

RXAFSCB = dict(zip(
    "CallBack InitCallBackState Probe GetLock GetCE XStatsVersion GetXStats "
    "InitCallBackState2 WhoAreYou InitCallBackState3 ProbeUuid GetServerPrefs "
    "GetCellServDB GetLocalCell GetCacheConfig".split(),
    range(204, 219),
))
RXAFSCB.update({"GetCE64": 65536, "GetCellByNum": 65537, "TellMeAboutYourself": 65538})

VOTE = dict(zip(
    "Beacon DebugOld SDebugOld GetSyncSite Debug SDebug XDebug XSDebug".split(),
    range(10000, 10008),
))

DISK = dict(zip(
    "Begin Commit Lock Write GetVersion GetFile SendFile Abort ReleaseLocks "
    "Truncate Probe WriteV UpdateInterfaceAddr SetVersion".split(),
    range(20000, 20014),
))

RXSTATS = dict(zip(
    "RetrieveProcessRPCStats RetrievePeerRPCStats QueryProcessRPCStats "
    "QueryPeerRPCStats EnableProcessRPCStats EnablePeerRPCStats "
    "DisableProcessRPCStats DisablePeerRPCStats QueryRPCStatsVersion "
    "ClearProcessRPCStats ClearPeerRPCStats".split(),
    range(0, 11),
))

# package -> (file, statindex, server prefix, expected procs, count, split, multi)
EXPECTED = {
    "VL_": ("vl.xg", 15, "S", VL, 28, set(), {"ProbeServer"}),
    "PR_": ("pr.xg", 8, "S", PR, 23, set(), set()),
    "BOZO_": ("bozo.xg", 1, "S", BOZO, 37, {"Install", "GetLog"}, set()),
    "AFSVol": ("volser.xg", 16, "S", AFSVOL, 34,
               {"Restore", "Dump", "DumpV2", "SplitVolume"}, set()),
    "RXAFS_": ("afsint.xg", 7, "S", RXAFS, 42,
               {"FetchData", "StoreData", "FetchData64", "StoreData64"},
               {"GetTime", "GiveUpAllCallBacks", "GetCapabilities"}),
    "RXAFSCB_": ("afscbint.xg", 6, "S", RXAFSCB, 18, set(),
                 {"CallBack", "Probe", "ProbeUuid"}),
    "VOTE_": ("ubik.xg", 11, "S", VOTE, 8, set(), {"Beacon"}),
    "DISK_": ("ubik.xg", 12, "S", DISK, 14, {"GetFile", "SendFile"},
              {"Probe", "UpdateInterfaceAddr"}),
    "RXSTATS_": ("rxstat.xg", 9, "M", RXSTATS, 11, set(),
                 {"RetrieveProcessRPCStats", "RetrievePeerRPCStats"}),
}

# service ids / ports declared as consts, per file
SERVICE_CONSTS = {
    "vl.xg": {"VL_SERVICE_ID": 52, "VL_PORT": 7003},
    "pr.xg": {"PR_SERVICE_ID": 73, "PR_PORT": 7002},
    "bozo.xg": {"BOZO_SERVICE_ID": 1, "BOZO_PORT": 7007},
    "volser.xg": {"VOLSERVICE_ID": 4, "AFSVOL_PORT": 7005},
    "afsint.xg": {"RXAFS_SERVICE_ID": 1, "RXAFS_PORT": 7000},
    "afscbint.xg": {"RXAFSCB_SERVICE_ID": 1, "RXAFSCB_PORT": 7001},
    "ubik.xg": {"VOTE_SERVICE_ID": 50, "DISK_SERVICE_ID": 51},
    "rxstat.xg": {"RX_STATS_SERVICE_ID": 409},
}

# ---------------------------------------------------------------------------
# The scan


def _strip(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return text


def _source(name: str, seen: set[str] | None = None) -> str:
    """File text with comments removed and ``#include "x"`` expanded once."""
    seen = set() if seen is None else seen
    if name in seen:
        return ""
    seen.add(name)
    text = _strip((RPC_DIR / name).read_text())

    def inc(m: re.Match) -> str:
        return _source(m.group(1), seen)

    text = re.sub(r'^\s*#\s*include\s+"([^"]+)"[^\n]*$', inc, text, flags=re.M)
    # drop the remaining preprocessor lines (guards)
    return re.sub(r"^\s*#[^\n]*$", " ", text, flags=re.M)


PROC_RE = re.compile(
    r"(?:\bproc\s+)?\b([A-Za-z_]\w*)\s*\(([^()]*)\)\s*((?:\b(?:split|multi)\b\s*)*)"
    r"(?:=\s*(\w+)\s*)?;"
)
PKG_RE = re.compile(r"^\s*package\s+(\w+)", re.M)
STAT_RE = re.compile(r"^\s*statindex\s+(\d+)", re.M)
PREFIX_RE = re.compile(r"^\s*prefix\s+(\w+)", re.M)
CONST_RE = re.compile(r"\bconst\s+(\w+)\s*=\s*(-?(?:0[xX][0-9a-fA-F]+|\d+))\s*;")


def _packages(fname: str) -> dict[str, dict]:
    """package -> {statindex, prefix, procs: [(name, opcode|None, params, flags)]}"""
    text = _source(fname)
    marks = list(PKG_RE.finditer(text))
    out = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = text[m.end():end]
        stat = STAT_RE.search(body)
        pre = PREFIX_RE.search(body)
        # a proc never starts inside a struct/union/enum body: blank those out
        body = re.sub(r"\{[^{}]*\}", "{}", body)
        procs = []
        for p in PROC_RE.finditer(body):
            name, params, flags, op = p.groups()
            params = [x.strip() for x in params.split(",") if x.strip()]
            procs.append((name, int(op, 0) if op else None, params, set(flags.split())))
        out[m.group(1)] = {
            "statindex": int(stat.group(1)) if stat else None,
            "prefix": pre.group(1) if pre else None,
            "procs": procs,
        }
    return out


def _all_packages() -> dict[str, dict]:
    pk = {}
    for f in sorted({v[0] for v in EXPECTED.values()}):
        for name, info in _packages(f).items():
            assert name not in pk, f"package {name} defined twice"
            info["file"] = f
            pk[name] = info
    return pk


PACKAGES = _all_packages()


def _opcodes(info: dict) -> dict[str, int]:
    """Explicit opcodes, or rxgen's automatic numbering from 0."""
    procs = info["procs"]
    explicit = [op is not None for _, op, _, _ in procs]
    assert all(explicit) or not any(explicit), "mixed explicit and automatic opcodes"
    if all(explicit):
        return {n: op for n, op, _, _ in procs}
    return {n: i for i, (n, _, _, _) in enumerate(procs)}


# ---------------------------------------------------------------------------
# Tests: procedures


def test_every_package_present():
    assert set(PACKAGES) == set(EXPECTED)


@pytest.mark.parametrize("pkg", sorted(EXPECTED))
def test_package_header(pkg):
    fname, statindex, prefix, *_ = EXPECTED[pkg]
    info = PACKAGES[pkg]
    assert info["file"] == fname
    assert info["statindex"] == statindex
    assert info["prefix"] == prefix


@pytest.mark.parametrize("pkg", sorted(EXPECTED))
def test_procedure_inventory(pkg):
    _, _, _, procs, count, _, _ = EXPECTED[pkg]
    info = PACKAGES[pkg]
    names = [n for n, _, _, _ in info["procs"]]
    assert len(names) == count == len(procs)
    assert len(set(names)) == len(names), "duplicate procedure name"
    got = _opcodes(info)
    assert len(set(got.values())) == len(got), "duplicate opcode"
    assert set(got.items()) == set(procs.items())


@pytest.mark.parametrize("pkg", sorted(EXPECTED))
def test_declaration_order(pkg):
    """Same order as the real servers (the Rx statistics function index)."""
    procs = EXPECTED[pkg][3]
    assert [n for n, _, _, _ in PACKAGES[pkg]["procs"]] == list(procs)


@pytest.mark.parametrize("pkg", sorted(EXPECTED))
def test_split_and_multi(pkg):
    *_, split, multi = EXPECTED[pkg]
    procs = PACKAGES[pkg]["procs"]
    assert {n for n, _, _, f in procs if "split" in f} == split
    assert {n for n, _, _, f in procs if "multi" in f} == multi


@pytest.mark.parametrize("pkg", sorted(EXPECTED))
def test_every_parameter_has_a_direction(pkg):
    for name, _, params, _ in PACKAGES[pkg]["procs"]:
        for p in params:
            assert re.match(r"(IN|OUT|INOUT)\s", p), f"{pkg}{name}: no direction on {p!r}"


def _param_dirs(pkg: str, proc: str) -> list[str]:
    for name, _, params, _ in PACKAGES[pkg]["procs"]:
        if name == proc:
            return [p.split()[0] for p in params]
    raise KeyError(proc)


def test_directions_that_rxgen_inherits():
    """Spots where the reference relies on an inherited direction."""
    assert _param_dirs("RXAFS_", "GetCapabilities") == ["OUT"]
    assert _param_dirs("RXAFS_", "OldSetLock") == ["IN", "IN", "IN"]
    assert _param_dirs("RXAFS_", "GetVolumeStatus") == ["IN", "OUT", "OUT", "OUT", "OUT"]
    assert _param_dirs("RXAFS_", "FlushCPS") == ["IN", "IN", "IN", "OUT", "OUT"]
    assert _param_dirs("VOTE_", "GetSyncSite") == ["IN"]
    assert _param_dirs("AFSVol", "CreateVolume") == ["IN", "IN", "IN", "IN", "INOUT", "OUT"]
    assert _param_dirs("PR_", "ListOwned") == ["IN", "OUT", "INOUT"]
    assert _param_dirs("RXAFSCB_", "InitCallBackState2") == ["OUT"]
    assert _param_dirs("BOZO_", "ListKeys") == ["IN", "OUT", "OUT", "OUT"]


@pytest.mark.parametrize("fname", sorted(SERVICE_CONSTS))
def test_service_constants(fname):
    consts = {n: int(v, 0) for n, v in CONST_RE.findall(_source(fname))}
    for name, value in SERVICE_CONSTS[fname].items():
        assert consts.get(name) == value, name


# ---------------------------------------------------------------------------
# Tests: fixed wire sizes


class _Sizer:
    """Wire size of fixed-size types, from a regex read of struct/typedef/const."""

    SCALAR4 = {"int", "afs_int32", "afs_uint32", "long", "u_long", "u_int", "unsigned",
               "short", "u_short", "afs_int16", "afs_uint16", "char", "u_char", "bool"}
    SCALAR8 = {"afs_int64", "afs_uint64", "hyper", "u_hyper"}

    def __init__(self, fname: str):
        text = _source(fname)
        self.consts = {n: int(v, 0) for n, v in CONST_RE.findall(text)}
        self.structs = {}
        for m in re.finditer(r"\bstruct\s+(\w+)\s*\{([^{}]*)\}\s*;", text):
            fields = [f.strip() for f in m.group(2).split(";") if f.strip()]
            self.structs[m.group(1)] = fields
        self.typedefs = {}
        for m in re.finditer(r"\btypedef\s+([^;]+);", text):
            decl = m.group(1).strip()
            name = re.search(r"(\w+)\s*(?:[\[<][^\]>]*[\]>])?\s*$", decl).group(1)
            self.typedefs[name] = decl

    def _n(self, s: str) -> int:
        s = s.strip()
        return int(s, 0) if s[0].isdigit() else self.consts[s]

    def decl(self, decl: str) -> int:
        m = re.match(r"(?:struct\s+)?(\w+)\s+(\*?)\s*(\w+)\s*(?:\[(\w+)\]|<(\w*)>)?$", decl)
        assert m, f"cannot size {decl!r}"
        base, ptr, _, fixed, var = m.groups()
        assert not ptr and var is None, f"not fixed-size: {decl!r}"
        if base == "opaque":
            return (self._n(fixed) + 3) // 4 * 4
        one = self.type(base)
        return one * (self._n(fixed) if fixed else 1)

    def type(self, name: str) -> int:
        if name in self.SCALAR4:
            return 4
        if name in self.SCALAR8:
            return 8
        if name in self.structs:
            return sum(self.decl(f) for f in self.structs[name])
        if name in self.typedefs:
            return self.decl(self.typedefs[name])
        raise KeyError(name)


SIZES = [
    # (file, type, bytes)
    ("common.xg", "afsUUID", 44),
    ("common.xg", "AFSFid", 12),
    ("common.xg", "AFSCallBack", 12),
    ("common.xg", "interfaceAddr", 4 + 44 + 3 * 32 * 4),
    ("common.xg", "AFSDBLockDesc", 32),
    ("common.xg", "AFSDBLock", 64 + 32),
    ("common.xg", "AFSDBCacheEntry", (2 + 3 + 2 + 8 + 2 + 5) * 4),
    ("common.xg", "AFSDBCacheEntry64", (2 + 3 + 2 + 1 + 8 + 2 + 5) * 4),
    ("vl.xg", "vldbentry", 384),
    ("vl.xg", "nvldbentry", 476),
    ("vl.xg", "uvldbentry", 1048),
    ("vl.xg", "VldbListByAttributes", 24),
    ("vl.xg", "ListAddrByAttributes", 16 + 44),
    ("vl.xg", "VLCallBack", 16),
    ("vl.xg", "vital_vlheader", 40),
    ("vl.xg", "vldstats", 4 + 2 * 50 * 4 + 20),
    ("vl.xg", "VldbUpdateEntry", 4 + 260 + 6 * 4 + 6 * 8 * 4),
    ("pr.xg", "prcheckentry", 304),
    ("pr.xg", "prlistentries", 304),
    ("pr.xg", "PrUpdateEntry", 308),
    ("pr.xg", "prname", 256),
    ("pr.xg", "prdebugentry", (4 + 5 + 10 + 13) * 4 + 256),
    ("bozo.xg", "bozo_status", 17 * 4),
    ("bozo.xg", "bozo_key", 32),
    ("bozo.xg", "bozo_keyInfo", 16),
    ("bozo.xg", "bozo_netKTime", 20),
    ("volser.xg", "volintInfo", (32 + 7 + 3 + 4 + 4 + 5) * 4),
    ("volser.xg", "volintXInfo", (32 + 7 + 1 + 4 + 4 + 4 + 4 + 4 * 6) * 4),
    ("volser.xg", "volser_status", 16 * 4),
    ("volser.xg", "transDebugInfo", 6 * 4 + 3 * 4 + 30 * 4 + 5 * 4),
    ("volser.xg", "pIDs", 104),
    ("volser.xg", "diskPartition", 64 * 4 + 16),
    ("volser.xg", "diskPartition64", 512 * 4 + 4 + 24),
    ("volser.xg", "restoreCookie", 32 * 4 + 12),
    ("volser.xg", "replica", 16),
    ("volser.xg", "volintSize", 8),
    ("afsint.xg", "AFSFetchStatus", 84),
    ("afsint.xg", "AFSStoreStatus", 24),
    ("afsint.xg", "AFSVolSync", 24),
    ("afsint.xg", "AFSFetchVolumeStatus", 48),
    ("afsint.xg", "AFSStoreVolumeStatus", 12),
    ("afsint.xg", "VolumeInfo", 64),
    ("afsint.xg", "AFSVolumeInfo", 96),
    ("afsint.xg", "ViceDisk", 40),
    ("afsint.xg", "ViceStatistics", 45 * 4 + 10 * 40),
    ("afsint.xg", "FsCmdInputs", 4 + 12 + 24 + 800 + 1024),
    ("afsint.xg", "FsCmdOutputs", 4 + 84 + 24 + 800 + 1024),
    ("ubik.xg", "ubik_version", 8),
    ("ubik.xg", "ubik_tid", 8),
    ("ubik.xg", "ubik_debug_old", 28 * 4),
    ("ubik.xg", "ubik_debug", 28 * 4 + 256 * 4),
    ("ubik.xg", "ubik_sdebug_old", 9 * 4),
    ("ubik.xg", "ubik_sdebug", 9 * 4 + 255 * 4),
    ("ubik.xg", "UbikInterfaceAddr", 1024),
    ("ubik.xg", "ubik_iovec", 12),
]


@pytest.mark.parametrize("fname,tname,size", SIZES, ids=[f"{t}" for _, t, _ in SIZES])
def test_fixed_wire_size(fname, tname, size):
    assert _Sizer(fname).type(tname) == size


# ---------------------------------------------------------------------------
# Tests: bounds of variable-length things that decoders enforce

BOUNDS = [
    ("vl.xg", "bulkaddrs", 500),
    ("pr.xg", "namelist", 500000),
    ("pr.xg", "idlist", 500000),
    ("pr.xg", "prlist", 500000),
    ("pr.xg", "prentries", 500000),
    ("common.xg", "AFSCBFids", 50),
    ("common.xg", "AFSCBs", 50),
    ("common.xg", "AFSOpaque", 1024),
    ("common.xg", "serverList", 8),
    ("common.xg", "Capabilities", 196),
    ("common.xg", "AFSCB_CollData", 2048),
    ("common.xg", "AFS_CollData", 1024),
    ("afsint.xg", "AFSBulkStats", 50),
    ("afsint.xg", "ViceStatistics64", 16),
    ("afsint.xg", "ViceIds", 10),
    ("volser.xg", "manyDests", 13),
    ("ubik.xg", "bulkdata", 20000),
    ("ubik.xg", "iovec_buf", 65536),
    ("ubik.xg", "iovec_wrt", 64),
]


@pytest.mark.parametrize("fname,tname,bound", BOUNDS, ids=[t for _, t, _ in BOUNDS])
def test_variable_bounds(fname, tname, bound):
    s = _Sizer(fname)
    m = re.search(r"<(\w+)>\s*$", s.typedefs[tname])
    assert m and s._n(m.group(1)) == bound
