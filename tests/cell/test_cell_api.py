"""kafs.cell.Cell: configuration locations, precedence, errors, caching."""

from __future__ import annotations

import os

import pytest

from kafs.cell import Cell, Server, clear_cache, local_cell_name, resolve_confdir
from kafs.errors import ConfigError


@pytest.fixture(autouse=True)
def _fresh():
    clear_cache()
    yield
    clear_cache()


def make_dir(path, thiscell="test.example", csdb=">test.example #test cell\n127.1.0.1 #afs1\n"):
    path.mkdir(parents=True, exist_ok=True)
    if thiscell is not None:
        (path / "ThisCell").write_text(thiscell + "\n")
    if csdb is not None:
        (path / "CellServDB").write_text(csdb)
    return path


def test_confdir_argument(tmp_path):
    d = make_dir(tmp_path / "etc")
    c = Cell(confdir=d, client_conf="", env={}, dns=False)
    assert c.name == "test.example"
    assert c.name_source == str(d / "ThisCell")
    assert c.from_env is False
    assert c.vlservers() == [("127.1.0.1", 7003)]
    assert c.ptservers() == [("127.1.0.1", 7002)]
    assert c.dbservers("buserver") == [("127.1.0.1", 7021)]
    assert c.servers("vlserver") == [Server("127.1.0.1", 7003, "afs1", False, "CellServDB")]
    assert c.description == "test cell"
    assert c.realm == "TEST.EXAMPLE"


def test_env_dirs(tmp_path):
    cli = make_dir(tmp_path / "cli", "client.example", ">client.example\n10.0.0.1 #c\n")
    srv = make_dir(tmp_path / "srv", "server.example", ">server.example\n10.0.0.2 #s\n")
    env = {"KAFS_CONF_DIR": str(cli), "KAFS_SERVER_CONF_DIR": str(srv)}
    assert Cell(env=env, client_conf="").vlservers() == [("10.0.0.1", 7003)]
    la = Cell(env=env, client_conf="", localauth=True)
    assert la.name == "server.example"
    assert la.vlservers() == [("10.0.0.2", 7003)]


def test_default_locations():
    assert resolve_confdir(env={}, localauth=True) == type(resolve_confdir(env={}))("/etc/openafs/server")


def test_afsconf_fallback(tmp_path, monkeypatch):
    # only used when the default client directory cannot be opened
    import kafs.cell.cell as cellmod
    monkeypatch.setattr(cellmod, "DEFAULT_CLIENT_DIR", str(tmp_path / "missing"))
    alt = make_dir(tmp_path / "alt", "alt.example", ">alt.example\n10.0.0.3 #a\n")
    assert resolve_confdir(env={"AFSCONF": str(alt)}) == alt
    home = tmp_path / "home"
    home.mkdir()
    (home / ".AFSCONF").write_text(f"{alt}\n")
    assert resolve_confdir(env={"HOME": str(home)}) == alt
    c = Cell(env={"HOME": str(home)}, client_conf="", dns=False)
    assert c.vlservers() == [("10.0.0.3", 7003)]
    # a working default directory wins over AFSCONF
    good = make_dir(tmp_path / "good")
    monkeypatch.setattr(cellmod, "DEFAULT_CLIENT_DIR", str(good))
    assert resolve_confdir(env={"AFSCONF": str(alt)}) == good


def test_afscell(tmp_path):
    d = make_dir(tmp_path, csdb=">test.example\n1.1.1.1 #t\n>other.example\n2.2.2.2 #o\n")
    c = Cell(confdir=d, env={"AFSCELL": "Other.Example"}, client_conf="")
    assert c.name == "other.example"
    assert c.from_env is True
    assert c.vlservers() == [("2.2.2.2", 7003)]
    # an explicit name beats AFSCELL
    assert Cell("test.example", confdir=d, env={"AFSCELL": "other.example"},
                client_conf="").vlservers() == [("1.1.1.1", 7003)]


def test_abbreviation_and_alias(tmp_path):
    d = make_dir(tmp_path, csdb=">test.example\n1.1.1.1 #t\n>grand.central.org\n2.2.2.2 #g\n")
    (d / "CellAlias").write_text("grand.central.org gco\n")
    assert Cell("test", confdir=d, env={}, client_conf="").name == "test.example"
    gco = Cell("gco", confdir=d, env={}, client_conf="", dns=False)
    assert gco.name == "grand.central.org"
    assert gco.vlservers() == [("2.2.2.2", 7003)]


def test_no_thiscell(tmp_path):
    d = make_dir(tmp_path, thiscell=None)
    with pytest.raises(ConfigError, match=r"cannot determine the local cell: no .*ThisCell"):
        Cell(confdir=d, env={}, client_conf="")
    with pytest.raises(ConfigError, match="empty cell name"):
        Cell("  ", confdir=d, env={}, client_conf="")


def test_garbled_cellservdb(tmp_path):
    d = make_dir(tmp_path, csdb=">test.example\n127.1.0.1\n")
    with pytest.raises(ConfigError) as ei:
        Cell(confdir=d, env={}, client_conf="").vlservers()
    assert str(ei.value).startswith(f"{d}/CellServDB:2: can't parse host line")


def test_client_conf(tmp_path):
    d = make_dir(tmp_path / "openafs", thiscell=None, csdb=">csdb.example\n1.1.1.1 #x\n")
    conf = tmp_path / "client.conf"
    conf.write_text("""\
[defaults]
thiscell = kafs.example
[cells]
kafs.example = {
  kerberos_realm = KAFS.REALM
  servers = {
    vl1 = {
      address = 10.2.0.1
      address = 10.2.0.11:7103
    }
    pt1 = {
      type = ptserver
      address = 10.2.0.2
    }
  }
}
vlonly.example = {
  servers = {
    [10.3.0.1]:7333 = {
    }
  }
}
csdb.example = {
  servers = {
    x = {
      address = 9.9.9.9
    }
  }
}
""")
    c = Cell(confdir=d, client_conf=conf, env={}, dns=False)
    assert c.name == "kafs.example"
    assert c.name_source == str(conf)
    assert c.realm == "KAFS.REALM"
    assert c.vlservers() == [("10.2.0.1", 7003), ("10.2.0.11", 7103)]
    assert c.ptservers() == [("10.2.0.2", 7002)]
    assert [s.source for s in c.servers("ptserver")] == ["client.conf"]
    v = Cell("vlonly.example", confdir=d, client_conf=conf, env={}, dns=False)
    assert v.vlservers() == [("10.3.0.1", 7333)]
    assert v.ptservers() == [("10.3.0.1", 7002)]     # no typed ptserver: vl hosts, pt port
    # CellServDB wins over client.conf
    assert Cell("csdb.example", confdir=d, client_conf=conf, env={},
                dns=False).vlservers() == [("1.1.1.1", 7003)]
    # the environment names the file too
    assert Cell(confdir=d, env={"KAFS_CLIENT_CONF": str(conf)},
                dns=False).name == "kafs.example"


def test_client_conf_error_is_config_error(tmp_path):
    d = make_dir(tmp_path / "o", thiscell=None, csdb=None)
    conf = tmp_path / "client.conf"
    conf.write_text("[defaults]\nthiscell\n")
    with pytest.raises(ConfigError, match=r"client\.conf:2: missing '='"):
        Cell(confdir=d, client_conf=conf, env={})


def test_explicit_servers(tmp_path):
    d = make_dir(tmp_path)
    c = Cell(confdir=d, env={}, client_conf="", servers=[("127.1.0.77", 7003), "127.1.0.1"])
    assert c.vlservers() == [("127.1.0.77", 7003), ("127.1.0.1", 7003)]
    assert c.ptservers() == [("127.1.0.77", 7003), ("127.1.0.1", 7002)]
    with pytest.raises(ConfigError, match="empty server list"):
        Cell(confdir=d, env={}, client_conf="", servers=[])


def test_single_servers(tmp_path):
    c = Cell(confdir=make_dir(tmp_path), env={}, client_conf="")
    assert c.bosserver("127.1.0.1") == ("127.1.0.1", 7007)
    assert c.volserver("127.1.0.1") == ("127.1.0.1", 7005)
    assert c.fileserver("localhost")[1] == 7000
    assert c.server("::1", "afsvldb") == ("::1", 7003)
    with pytest.raises(ConfigError, match="can't find address for host 'no-such-host.invalid'"):
        c.bosserver("no-such-host.invalid")
    with pytest.raises(ConfigError, match="unknown service"):
        c.server("127.0.0.1", "nosuchservice")


def test_files_reread_when_changed(tmp_path):
    d = make_dir(tmp_path)
    c = Cell(confdir=d, env={}, client_conf="")
    assert c.vlservers() == [("127.1.0.1", 7003)]
    (d / "CellServDB").write_text(">test.example\n127.1.0.2 #new host line\n")
    st = os.stat(d / "CellServDB")
    os.utime(d / "CellServDB", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert c.vlservers() == [("127.1.0.2", 7003)]


def test_local_cell_name(tmp_path):
    d = make_dir(tmp_path)
    assert local_cell_name(d, env={}, client_conf="") == ("test.example", str(d / "ThisCell"))
    assert local_cell_name(d, env={"AFSCELL": "x.example"}) == ("x.example", "AFSCELL")


def test_test_cell_default_files():
    """The test cell writes /etc/openafs/{ThisCell,CellServDB}; we read them by default."""
    if not (os.path.exists("/etc/openafs/ThisCell") and os.path.exists("/etc/openafs/CellServDB")):
        pytest.skip("no /etc/openafs client configuration here")
    env = {k: v for k, v in os.environ.items()
           if k not in ("AFSCELL", "AFSCONF", "KAFS_CONF_DIR", "KAFS_CLIENT_CONF")}
    c = Cell(env=env, client_conf="", dns=False)
    assert c.confdir == type(c.confdir)("/etc/openafs")
    assert c.vlservers()
