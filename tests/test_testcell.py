"""kafs-testcell: unit tests of its pieces, and tests against the real cell."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time

import pytest

from kafs.testcell import TestCell, config, debian, dump, loss

CLI = [sys.executable, "-m", "kafs.testcell"]


def _cli(*args, env=None, timeout=600):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def _disruptive_ok() -> bool:
    """Tests that stop servers of the shared cell run in CI (nothing else
    uses the cell there) or when asked for."""
    flags = (os.environ.get("CI", ""), os.environ.get("KAFS_TESTCELL_DISRUPTIVE", ""))
    return any(f.strip().lower() in ("1", "true", "yes") for f in flags)


# ---------------------------------------------------------------- unit ----

def _vnode(num, uniq, vtype, mode, data, acl=None):
    v = b"\x03" + struct.pack(">II", num, uniq)
    v += b"t" + bytes([vtype]) + b"l" + struct.pack(">H", 1)
    for tag in b"vmao":
        v += bytes([tag]) + struct.pack(">I", 7)
    v += b"b" + struct.pack(">H", mode) + b"p" + struct.pack(">I", 1) + b"s" + struct.pack(">I", 9)
    if acl is not None:
        v += b"A" + acl
    return v + b"f" + struct.pack(">I", len(data)) + data


def _fake_dump(link_text: bytes) -> bytes:
    head = b"\x01" + struct.pack(">II", 0xB3A11322, 1) + b"\x02i" + struct.pack(">I", 536870915)
    root = _vnode(1, 1, 2, 0o755, b"D" * 2048, dump.encode_acl({dump.ADMINISTRATORS: 127}))
    link = _vnode(2, 5, 3, 0o755, link_text)
    return head + root + link + b"\x04" + struct.pack(">I", 0x3A214B6E)


def test_acl_roundtrip_and_rights():
    assert dump.rights("rlidwka") == 127
    assert dump.rights("rl") == 9
    raw = dump.encode_acl({dump.ANYUSER: 9, dump.ADMINISTRATORS: 127})
    assert len(raw) == dump.ACL_SIZE
    assert dump.decode_acl(raw) == {dump.ADMINISTRATORS: 127, dump.ANYUSER: 9}
    with pytest.raises(ValueError):
        dump.rights("x")


def test_set_root_acl_in_dump():
    d = _fake_dump(b"hello")
    new = dump.set_root_acl(d, {dump.ADMINISTRATORS: 127, dump.ANYUSER: 63})
    assert len(new) == len(d)
    assert dump.root_acl(new) == {dump.ADMINISTRATORS: 127, dump.ANYUSER: 63}
    with pytest.raises(dump.DumpError):
        dump.root_acl(b"\x01nothing here")


def test_fuse_symlink_becomes_mount_point():
    d = _fake_dump(b"/afs/#test.example:root.cell.")
    assert dump.mount_points(d) == []
    new, n = dump.fix_fuse_mount_points(d)
    assert n == 1
    assert dump.mount_points(new) == ["#test.example:root.cell."]
    assert dump.root_acl(new) == {dump.ADMINISTRATORS: 127}
    # plain symlinks are left alone
    same, n = dump.fix_fuse_mount_points(_fake_dump(b"/etc/passwd"))
    assert n == 0 and same == _fake_dump(b"/etc/passwd")


def test_loss_ruleset_text():
    text = loss.ruleset(5)
    assert f"table {config.NFT_FAMILY} {config.NFT_TABLE}" in text
    assert "hook input" in text                # silent loss, see loss.py
    assert text.count("numgen random mod 100 < 5") == 2
    assert f"ip daddr {config.SERVER_HOST}" in text and f"ip saddr {config.SERVER_HOST}" in text
    assert "numgen" not in loss.ruleset(100)
    with pytest.raises(loss.LossError):
        loss.set_loss(101)
    with pytest.raises(loss.LossError):
        loss.set_loss(2.5)


def test_debconf_answers_keep_everything_local():
    sel = debian.debconf_selections()
    assert "openafs-client/run-client boolean false" in sel
    assert "openafs-client/afsdb boolean false" in sel
    assert f"krb5-config/kerberos_servers string {config.KDC_HOST}" in sel
    assert "krb5-kdc/debconf boolean false" in sel
    for p in ("openafs-dbserver", "openafs-fileserver", "openafs-client", "openafs-krb5",
              "krb5-kdc", "nftables"):
        assert p in debian.CELL_PACKAGES


def test_cli_errors_are_one_line(tmp_path):
    r = _cli("loss", "lots")
    assert r.returncode != 0
    assert r.stderr.strip().count("\n") == 0, r.stderr
    assert "Traceback" not in r.stderr
    r = _cli("frobnicate")
    assert r.returncode == 2


def test_env_prints_exports():
    r = _cli("env")
    assert r.returncode == 0
    lines = dict(line.removeprefix("export ").split("=", 1) for line in r.stdout.splitlines())
    assert lines["KAFS_TESTCELL_HOST"] == "127.1.0.1"
    assert lines["KAFS_TESTCELL_CELL"] == "test.example"
    assert lines["KRB5_CONFIG"].endswith("krb5.conf")
    assert "KAFS_TESTCELL_ADMIN_KEYTAB" in lines


def test_status_of_missing_cell_is_nonzero(tmp_path):
    r = _cli("status", env={"KAFS_TESTCELL_DIR": str(tmp_path / "none")})
    assert r.returncode != 0
    assert "UNHEALTHY" in r.stdout


# ---------------------------------------------------------- real cell ----


@pytest.mark.cell
def test_up_again_changes_nothing(cell):
    tc = TestCell(verbose=False)
    before = (tc.bosserver_pid(), tc.kdc_pid())
    info = tc.up()
    assert info == cell
    assert (tc.bosserver_pid(), tc.kdc_pid()) == before    # nothing restarted
    r = _cli("up")
    assert r.returncode == 0, r.stderr
    assert "up and healthy" in r.stderr


@pytest.mark.cell
def test_status_exit_code(cell):
    r = _cli("status")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "healthy" in r.stdout
    assert "ptserver" in r.stdout and "dafs" in r.stdout


@pytest.mark.cell
def test_info_object(cell):
    assert cell.cell == "test.example" and cell.realm == "TEST.EXAMPLE"
    assert cell.host == "127.1.0.1"
    assert cell.ports == {"fileserver": 7000, "ptserver": 7002, "vlserver": 7003,
                          "volserver": 7005, "bosserver": 7007}
    assert cell.admin_principal == "admin@TEST.EXAMPLE"
    for name in ("bos", "vos", "pts", "rxdebug", "udebug", "kinit"):
        assert os.access(cell.bin(name), os.X_OK), name
    assert os.path.exists(cell.admin_keytab) and os.path.exists(cell.krb5_config)


@pytest.mark.cell
def test_openafs_bos_status(cell):
    r = cell.tool("bos", "status", cell.host, "-localauth")
    assert r.returncode == 0, r.stderr
    for inst in ("ptserver", "vlserver", "dafs"):
        assert f"Instance {inst}, currently running normally." in r.stdout


@pytest.mark.cell
def test_two_partitions_attached(cell):
    assert cell.partitions == ("/vicepa", "/vicepb")
    r = cell.tool("vos", "listpart", cell.host, "-localauth")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[6:8] == ["/vicepa", "/vicepb"] and "Total: 2" in r.stdout


@pytest.mark.cell
def test_openafs_vos_examine_root_cell(cell):
    r = cell.tool("vos", "examine", "root.cell", "-localauth")
    assert r.returncode == 0, r.stderr
    assert "On-line" in r.stdout and "afs1.test.example /vicepa" in r.stdout
    r = cell.tool("vos", "examine", "root.afs", "-localauth")
    assert r.returncode == 0, r.stderr


@pytest.mark.cell
def test_servers_answer_rxdebug_and_udebug(cell):
    r = cell.tool("rxdebug", cell.host, str(cell.ports["fileserver"]), "-version", timeout=30)
    assert "OpenAFS 1.8.9" in r.stdout
    r = cell.tool("udebug", cell.host, str(cell.ports["vlserver"]), timeout=30)
    assert "I am sync site" in r.stdout


@pytest.mark.cell
def test_root_acls(cell, tmp_path):
    f = tmp_path / "root.cell.dump"
    r = cell.tool("vos", "dump", "-id", "root.cell", "-file", str(f), "-localauth")
    assert r.returncode == 0, r.stderr
    assert dump.root_acl(f.read_bytes()) == {dump.ADMINISTRATORS: dump.rights("rlidwka"),
                                             dump.ANYUSER: dump.rights("rlidwk")}


@pytest.mark.cell
def test_kinit_with_admin_keytab(cell, tmp_path):
    env = cell.env()
    env["KRB5CCNAME"] = f"FILE:{tmp_path}/cc"
    r = subprocess.run([cell.bin("kinit"), "-k", "-t", cell.admin_keytab, cell.admin_principal],
                       env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([cell.bin("kvno"), f"afs/{cell.cell}@{cell.realm}"],
                       env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([cell.bin("klist")], env=env, capture_output=True, text=True, timeout=30)
    assert cell.admin_principal in r.stdout and f"afs/{cell.cell}@{cell.realm}" in r.stdout


def _ruleset() -> str:
    return subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True,
                          timeout=30, check=True).stdout


@pytest.mark.cell
def test_loss_rule_goes_in_and_out(cell):
    tc = TestCell(verbose=False)
    try:
        tc.set_loss(5)
        text = _ruleset()
        assert f"table {config.NFT_FAMILY} {config.NFT_TABLE}" in text
        assert "numgen random mod 100 < 5" in text
        assert loss.current_loss() == 5
        tc.set_loss(20)                       # replaces, never stacks
        text = _ruleset()
        assert text.count(f"table {config.NFT_FAMILY} {config.NFT_TABLE}") == 1
        assert "< 20" in text and "< 5 " not in text
    finally:
        tc.clear_loss()
    assert config.NFT_TABLE not in _ruleset()
    tc.clear_loss()                           # idempotent
    r = _cli("loss", "7")
    assert r.returncode == 0 and "< 7" in _ruleset()
    r = _cli("loss", "off")
    assert r.returncode == 0 and config.NFT_TABLE not in _ruleset()


@pytest.mark.cell
def test_total_loss_really_drops(cell):
    tc = TestCell(verbose=False)
    try:
        tc.set_loss(100)
        assert tc.dropped_packets() == 0
        try:   # rxdebug may wait a long time for an answer that never comes
            r = cell.tool("rxdebug", cell.host, str(cell.ports["vlserver"]), "-version", timeout=5)
            assert "AFS version" not in r.stdout
        except subprocess.TimeoutExpired:
            pass
        assert tc.dropped_packets() > 0           # the rule's counters saw rxdebug's tries
    finally:
        tc.clear_loss()
    r = cell.tool("rxdebug", cell.host, str(cell.ports["vlserver"]), "-version", timeout=30)
    assert "AFS version" in r.stdout


@pytest.mark.cell
def test_up_repairs_a_stopped_server(cell):
    if not _disruptive_ok():
        pytest.skip("stops ptserver of the shared cell: set KAFS_TESTCELL_DISRUPTIVE=1 (always on in CI)")
    tc = TestCell(verbose=False)
    r = cell.tool("bos", "stop", cell.host, "ptserver", "-localauth", "-wait")
    assert r.returncode == 0, r.stderr
    assert any("ptserver" in p for p in tc.problems())
    assert _cli("status").returncode != 0
    tc.up()
    assert tc.problems() == []
    r = cell.tool("pts", "examine", "admin", "-localauth")
    assert r.returncode == 0, r.stderr


@pytest.mark.cell
def test_root_afs_mount_points(cell, tmp_path):
    if not (os.path.exists("/dev/fuse") and os.path.exists(cell.bin("afsd.fuse"))):
        pytest.skip("no /dev/fuse: root.afs gets no mount points")
    f = tmp_path / "root.afs.dump"
    r = cell.tool("vos", "dump", "-id", "root.afs", "-file", str(f), "-localauth")
    assert r.returncode == 0, r.stderr
    d = f.read_bytes()
    assert set(dump.mount_points(d)) >= {"#test.example:root.cell.", "%test.example:root.cell."}
    assert dump.root_acl(d) == {dump.ADMINISTRATORS: dump.rights("rlidwka"), dump.ANYUSER: dump.rights("rl")}


@pytest.mark.cell
def test_down_then_up(cell):
    if not _disruptive_ok():
        pytest.skip("stops the shared cell: set KAFS_TESTCELL_DISRUPTIVE=1 (always on in CI)")
    tc = TestCell(verbose=False)
    tc.set_loss(5)
    tc.down()
    assert tc.bosserver_pid() is None and tc.kdc_pid() is None
    assert config.NFT_TABLE not in _ruleset()           # down removes the loss rule
    assert _cli("status").returncode != 0
    assert tc.up() == cell
    assert tc.problems() == []


@pytest.mark.cell
def test_up_repairs_a_killed_bosserver(cell):
    if not _disruptive_ok():
        pytest.skip("kills the shared cell's bosserver: set KAFS_TESTCELL_DISRUPTIVE=1 (always on in CI)")
    import signal
    tc = TestCell(verbose=False)
    salvlog = config.SRV_LOGS / "SalsrvLog"
    seen = salvlog.stat().st_size if salvlog.exists() else 0
    old = tc.bosserver_pid()
    os.kill(old, signal.SIGKILL)       # its servers live on as orphans holding the ports
    deadline = time.monotonic() + 60
    while tc.bosserver_pid() is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "bosserver not running" in tc.problems()
    tc.up()
    assert tc.bosserver_pid() not in (None, old)
    assert tc.problems() == []          # includes: the file server serves root.cell
    # the orphaned file server was stopped cleanly: nothing needed salvaging
    new = salvlog.read_bytes()[seen:] if salvlog.exists() else b""
    assert b"SALVAGING VOLUME" not in new, new.decode(errors="replace")
