"""kAFS client.conf: the profile parser, include/includedir, the [cells] database."""

from __future__ import annotations

import pytest

from kafs.cell import parse_client_conf, parse_profile, read_profile
from kafs.cell.clientconf import parse_address
from kafs.errors import ConfigError

EXAMPLE = """\
# kafs-client.conf(5)'s example
[defaults]
\tthiscell = rivendell.example.com
\tsysname = fedora28_x86 amd64_linux

[cells]
corp.example.com = {
\tdescription = "Valinor \\"Corporation\\" cell"
\tuse_dns = yes
\tservers = {
\t\tmanwe.corp.example.com = {
\t\t\taddress = 2001:db8:123::13
\t\t\taddress = 203.0.113.19
\t\t}
\t\tulmo.corp.example.com = {
\t\t\taddress = [2001:db8:123::750c:1234]:6666
\t\t\taddress = 203.0.113.3:6666
\t\t}
\t\taule.corp.example.com = {
\t\t\taddress = udp/[2001:db8:123::abcd:9090]
\t\t\taddress = udp/203.0.113.189
\t\t}
\t\tnamo.corp.example.com = {
\t\t\ttype = ptserver
\t\t\taddress = 2001:db8:123::8888
\t\t\taddress = 203.0.113.88
\t\t}
\t}
}

rivendell.example.com = {
\tdescription = "Last Homely Cell"
\tservers = {
\t\telrond.rivendell.example.com = {
\t\t\taddress = 192.0.2.23
\t\t}
\t\tarwen.rivendell.example.com:7013 = {
\t\t\taddress = 192.0.2.75
\t\t}
\t}
}
"""


def test_example():
    conf = parse_client_conf(parse_profile(EXAMPLE, "client.conf"))
    assert conf.thiscell == "rivendell.example.com"
    assert conf.sysname == ["fedora28_x86", "amd64_linux"]
    corp = conf.lookup("CORP.example.com")
    assert corp.description == 'Valinor "Corporation" cell'
    assert corp.use_dns is True
    names = [(s.name, s.type) for s in corp.servers]
    assert names == [("manwe.corp.example.com", "vlserver"),
                     ("ulmo.corp.example.com", "vlserver"),
                     ("aule.corp.example.com", "vlserver"),
                     ("namo.corp.example.com", "ptserver")]
    assert corp.servers[1].addresses == (("2001:db8:123::750c:1234", 6666),
                                         ("203.0.113.3", 6666))
    assert corp.servers[2].addresses == (("2001:db8:123::abcd:9090", None),
                                         ("203.0.113.189", None))
    riv = conf.lookup("rivendell.example.com")
    assert riv.use_dns is False
    assert riv.servers[1].name == "arwen.rivendell.example.com"
    assert riv.servers[1].port == 7013
    assert riv.origin == "client.conf:31"


def test_merge_and_final():
    text = """\
[cells]
a.example = {
  description = first
}
a.example = {
  description = second
  servers = {
    s1 = {
      address = 10.0.0.1
    }
  }
}*
a.example = {
  description = ignored
}
"""
    root = parse_profile(text, "f")
    cell = root.get("cells", "a.example")
    assert [n.value for n in cell.strings("description")] == ["first", "second"]
    assert cell.string("description") == "second"
    assert cell.final
    conf = parse_client_conf(root)
    assert conf.lookup("a.example").description == "second"


def test_comments_and_section_merge():
    root = parse_profile("; x\n# y\n[defaults]\n thiscell = a\n[other]\nk=v\n[defaults]\nthiscell = b\n")
    assert len(root.lists("defaults")) == 1
    assert parse_client_conf(root).thiscell == "b"


@pytest.mark.parametrize("text,msg", [
    ("[cells\n", "f:1: bad section label"),
    ("[]\n", "f:1: bad section label"),
    ("[a]b]\n", "f:1: bad section label"),
    ("[cells]\n}\n", "f:2: unmatched '}'"),
    ("[cells]\nfoo\n", "f:2: missing '='"),
    ("[cells]\n = v\n", "f:2: relation without a name"),
    ("[cells]\na = { x\n}\n", "f:2: unexpected text after '{'"),
    ("[cells]\na = {\n} x\n", "f:3: unexpected text after '}'"),
    ('[cells]\na = "abc\n', "f:2: unterminated string"),
    ('[cells]\na = "abc\\"\n', "f:2: incomplete '\\' escape"),
    ("[cells]\na = {\n b = 1\n", "f:2: '{' of 'a' is never closed"),
    ("[cells]\nc = {\n servers = {\n  s = {\n   address = 1.2.3\n  }\n }\n}\n",
     "f:5: invalid address '1.2.3'"),
    ("[cells]\nc = {\n servers = {\n  s:99999 = {\n  }\n }\n}\n", "f:4: port 99999 out of range"),
])
def test_errors(text, msg):
    with pytest.raises(ConfigError) as ei:
        parse_client_conf(parse_profile(text, "f"))
    assert str(ei.value).startswith(msg), str(ei.value)


def test_include_and_includedir(tmp_path):
    d = tmp_path / "client.d"
    d.mkdir()
    (d / "10-local.conf").write_text("[defaults]\nthiscell = local.example\n")
    (d / "20-cell.conf").write_text(
        "[cells]\nlocal.example = {\n servers = {\n  db1 = {\n   address = 10.1.1.1\n  }\n }\n}\n")
    (d / ".hidden").write_text("garbage that would not parse\n[\n")
    (d / "backup~").write_text("[\n")
    gen = tmp_path / "cellservdb.conf"
    gen.write_text("[cells]\nother.example = {\n description = generated\n}\n")
    main = tmp_path / "client.conf"
    main.write_text(f"# stitch\nincludedir {d}\ninclude {gen}\n  include /indented/is/ignored\n")
    conf = parse_client_conf(read_profile(main))
    assert conf.thiscell == "local.example"
    assert conf.lookup("local.example").servers[0].addresses == (("10.1.1.1", None),)
    assert conf.lookup("other.example").description == "generated"


def test_include_errors(tmp_path):
    main = tmp_path / "client.conf"
    main.write_text("include /nonexistent/file.conf\n")
    with pytest.raises(ConfigError, match=r"client\.conf:1: cannot include /nonexistent/file\.conf"):
        read_profile(main)
    main.write_text("includedir /nonexistent/dir\n")
    with pytest.raises(ConfigError, match=r"client\.conf:1: cannot read directory"):
        read_profile(main)
    main.write_text(f"include {main}\n")
    with pytest.raises(ConfigError, match="include loop"):
        read_profile(main)
    bad = tmp_path / "bad.conf"
    bad.write_text("[cells]\n\nx\n")
    main.write_text(f"include {bad}\n")
    with pytest.raises(ConfigError, match=r"bad\.conf:3: missing '='"):
        read_profile(main)
    assert read_profile(tmp_path / "absent.conf") is None


def test_parse_address():
    assert parse_address("10.0.0.1", "w") == ("10.0.0.1", None)
    assert parse_address("udp/10.0.0.1:7003", "w") == ("10.0.0.1", 7003)
    assert parse_address("[::1]:7003", "w") == ("::1", 7003)
    assert parse_address("::1", "w") == ("::1", None)
    for bad in ("tcp/10.0.0.1", "host.example", "[::1", "[::1]x", "10.0.0.1:x"):
        with pytest.raises(ConfigError, match="^w: "):
            parse_address(bad, "w")


def test_server_types_and_unknown(caplog):
    text = ("[cells]\nc = {\n servers = {\n  a = {\n   type = ptserver\n   address = 1.1.1.1\n  }\n"
            "  b = {\n   type = fileserver\n   address = 1.1.1.2\n  }\n"
            "  tcp/c = {\n   address = 1.1.1.3\n  }\n"
            "  [::1]:7777 = {\n   port = 7778\n  }\n }\n}\n")
    conf = parse_client_conf(parse_profile(text, "f"))
    srv = conf.lookup("c").servers
    assert [(s.name, s.type, s.port) for s in srv] == [("a", "ptserver", None),
                                                       ("::1", "vlserver", 7778)]
    assert "unknown type" in caplog.text
