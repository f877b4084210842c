"""-json output of the vos subcommands and the Python API, checked against
the same cell data that the OpenAFS text shows."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess

import pytest

from .conftest import OURS, QUOTAS, REPO


def ours_json(cell, *args):
    env = cell.env()
    env["PYTHONPATH"] = str(REPO / "src")
    r = subprocess.run([*OURS, *args, "-json"], env=env, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def openafs(cell, *args):
    return cell.tool("vos", *args, "-noauth").stdout


def test_listvldb_json(vos_cell):
    j = ours_json(vos_cell, "listvldb", "-noauth")
    text = openafs(vos_cell, "listvldb")
    names = [e["name"] for e in j["entries"]]
    assert names == sorted(names, key=lambda n: n.encode())
    assert j["total"] == len(names) == int(re.search(r"Total entries: (\d+)", text).group(1))
    e = {x["name"]: x for x in j["entries"]}
    c = e["cvol.000"]
    assert c["ro_id"] and c["bk_id"] and c["rw_id"]
    assert [s["type"] for s in c["sites"]] == ["RW", "RO"]
    assert c["sites"][0]["server"] == "127.1.0.1" and c["sites"][0]["partition"] == "/vicepa"
    assert e["cvol.299"]["locked"] == ["delete"]
    assert e["cvol.001"]["sites"][1]["not_released"] is True
    assert e["cvol.002"]["ro_id"] is None and e["cvol.002"]["bk_id"] is None


def test_listvldb_name_and_locked_json(vos_cell):
    j = ours_json(vos_cell, "listvldb", "-name", "cvol.025", "-noauth")
    assert [x["name"] for x in j["entries"]] == ["cvol.025"]
    j = ours_json(vos_cell, "listvldb", "-locked", "-noauth")
    assert "cvol.299" in [x["name"] for x in j["entries"]]
    assert all(x["locked"] for x in j["entries"])


def test_examine_json(vos_cell):
    j = ours_json(vos_cell, "examine", "cvol.025.readonly", "-noauth")
    text = openafs(vos_cell, "examine", "cvol.025.readonly")
    assert j["type"] == "RO" and j["vldb"]["name"] == "cvol.025"
    assert len(j["sites"]) == 1 and j["sites"][0]["volume"]["type"] == 1
    assert str(j["id"]) in text
    j = ours_json(vos_cell, "examine", "cvol.001", "-noauth")
    v = j["sites"][0]["volume"]
    assert v["name"] == "cvol.001" and v["maxquota"] == 1000
    m = re.search(r"MaxQuota\s+(\d+) K", openafs(vos_cell, "examine", "cvol.001"))
    assert int(m.group(1)) == v["maxquota"]
    j = ours_json(vos_cell, "examine", "cvol.003", "-extended", "-noauth")
    assert len(j["sites"][0]["volume"]["stat_reads"]) == 4


def test_listvol_listpart_partinfo_json(vos_cell):
    j = ours_json(vos_cell, "listvol", "afs1", "-noauth")
    text = openafs(vos_cell, "listvol", "afs1")
    assert [p["partition"] for p in j["partitions"]] == ["/vicepa", "/vicepb"]
    for p, online in zip(j["partitions"], re.findall(r"onLine (\d+)", text)):
        assert p["total"] == int(re.search(p["partition"] + r": (\d+)", text).group(1))
        assert p["online"] == int(online)
    names_b = {v["name"] for v in j["partitions"][1]["volumes"]}
    assert {"cvol.004", "cvol.010", "cvol.010.backup"} <= names_b and "cvol.000" not in names_b
    j = ours_json(vos_cell, "listvol", "afs1", "-fast", "-noauth")
    assert all(isinstance(v, int) for v in j["partitions"][0]["volumes"])
    assert ours_json(vos_cell, "listpart", "afs1", "-noauth") == {
        "server": "afs1", "partitions": ["/vicepa", "/vicepb"], "total": 2}
    j = ours_json(vos_cell, "partinfo", "afs1", "-summary", "-noauth")
    assert [p["name"] for p in j["partitions"]] == ["/vicepa", "/vicepb"]
    assert j["summary"]["partitions"] == 2


def test_listaddrs_status_size_json(vos_cell):
    j = ours_json(vos_cell, "listaddrs", "-noauth")
    assert j["servers"][0]["addrs"] == ["127.1.0.1"]
    text = openafs(vos_cell, "listaddrs", "-printuuid")
    assert j["servers"][0]["uuid"] in text
    assert ours_json(vos_cell, "status", "afs1", "-noauth") == {"server": "afs1",
                                                               "transactions": []}
    j = ours_json(vos_cell, "size", "cvol.000", "-noauth")
    assert j["dump_size"] is None and j["partition"] == "/vicepa"


def test_api_one_liner(vos_cell):
    import kafs.api
    entries = asyncio.run(kafs.api.list_volumes())
    names = {e.name for e in entries}
    assert {"root.afs", "root.cell", "cvol.000", "cvol.299"} <= names
    e = next(x for x in entries if x.name == "cvol.299")
    assert e.locked and e.lock_operations == ["delete"]


def test_api_lookups_and_servers(vos_cell):
    from kafs.api import AuthSpec, Session, vldb, volume

    async def main():
        async with await Session.open(auth=AuthSpec(noauth=True)) as s:
            e = await vldb.get_entry(s, "cvol.000")
            assert await vldb.volume_id(s, "cvol.000.readonly") == e.ro_id
            assert await vldb.volume_id(s, "cvol.000.backup") == e.bk_id
            assert await vldb.volume_id(s, "cvol.000") == e.rw_id
            assert (await vldb.get_entry_by_id(s, e.bk_id)).name == "cvol.000"
            srv = await vldb.list_servers(s)
            assert srv and srv[0].addrs == [vldb.server_address("127.1.0.1")]
            one = await vldb.list_servers(s, uuid=srv[0].uuid)
            assert one[0].uuid == srv[0].uuid
            parts = await volume.list_partitions(s, "127.1.0.1")
            assert parts == [0, 1]
            info = await volume.partition_info(s, "127.1.0.1", 0)
            assert info.name == "/vicepa" and info.min_free > 0
            vols = await volume.list_volumes(s, "127.1.0.1", 0)
            assert e.rw_id in {v.volid for v in vols}
            v = await volume.list_one_volume(s, "127.1.0.1", 0, e.rw_id)
            assert v.name == "cvol.000" and v.maxquota == QUOTAS[0]   # the fixture's quota by index
            x = await volume.xlist_one_volume(s, "127.1.0.1", 0, e.rw_id)
            assert x.name == "cvol.000"
            assert await volume.monitor(s, "127.1.0.1") == []
    asyncio.run(main())


def test_partition_and_address_rules():
    from kafs.api.vldb import partition_id, partition_name, server_address_noresolve
    assert [partition_id(x) for x in ("a", "vicepa", "/vicepa", "0", "z", "aa", "/vicepiu", "/vicepiv",
                                      "254", "255", "", "A", "/vicepzz", "1x")] == \
        [0, 0, 0, 0, 25, 26, 254, -1, 254, -1, -1, -1, -1, 1]
    assert partition_name(0) == "/vicepa" and partition_name(26) == "/vicepaa"
    assert partition_name(254) == "/vicepiu"
    assert server_address_noresolve("127.1.0.1") == 0x7F010001
    assert server_address_noresolve("afs1") == 0


def _ours_any(cell, *args):
    env = cell.env()
    env.pop("AFSCELL", None)
    env["PYTHONPATH"] = str(REPO / "src")
    r = subprocess.run([*OURS, *args, "-json"], env=env, capture_output=True, timeout=300)
    return r


def test_write_commands_json(vos_cell):
    """-json of the write commands: one object, stdout nothing else, the
    same exit status as in text mode, and the state changed as in text mode."""
    from ._pair import remove_all, vos
    cell = vos_cell
    h = cell.host
    n = "kt.j.write"
    remove_all(cell, n)
    try:
        assert vos(cell, "create", h, "a", n).returncode == 0
        r = _ours_any(cell, "backup", n, "-localauth")
        j = json.loads(r.stdout)
        assert r.returncode == 0 and j["ok"] and j["backup_id"] and j["partition"] == "/vicepa"
        r = _ours_any(cell, "move", n, h, "a", h, "b", "-localauth", "-verbose")
        j = json.loads(r.stdout)           # -verbose text is not on stdout
        assert j["ok"] and j["to_partition"] == "/vicepb" and j["id"]
        r = _ours_any(cell, "addsite", h, "b", n, "-localauth")
        assert json.loads(r.stdout)["ok"]
        r = _ours_any(cell, "release", n, "-localauth")
        j = json.loads(r.stdout)
        assert j["ok"] and j["ro_id"] and j["failed_sites"] == []
        r = _ours_any(cell, "lock", n, "-localauth")
        assert json.loads(r.stdout)["ok"]
        r = _ours_any(cell, "lock", n, "-localauth")          # a failure
        j = json.loads(r.stdout)
        assert r.returncode == 1 and not j["ok"] and j["code"] == 363541
        assert b"already locked" in r.stderr
        r = _ours_any(cell, "unlock", n, "-localauth")
        assert json.loads(r.stdout)["ok"]
        r = _ours_any(cell, "backupsys", "-prefix", n, "-localauth", "-dryrun")
        assert json.loads(r.stdout)["would_back_up"] == [n]
    finally:
        remove_all(cell, n)
