"""CellServDB / ThisCell / CellAlias parsing (OpenAFS 1.8.9 cellconfig.c rules)."""

from __future__ import annotations

import logging

import pytest

from kafs.cell import parse_cellservdb, read_cellservdb, read_thiscell
from kafs.cell.cellservdb import parse_cellalias
from kafs.errors import ConfigError

SAMPLE = """\
>grand.central.org      #GCO Public CellServDB 01 Jan 2023
18.9.48.14                      #grand.mit.edu
128.2.13.219                    #grand-old-opry.central.org
>test.example  linked.example  #loopback test cell
127.1.0.1  #afs1.test.example
  [127.1.0.2]   #afs2.test.example   trailing words are ignored
127.1.0.3#afs3
127.1.0.4 # afs4
"""


def test_parse_sample():
    db = parse_cellservdb(SAMPLE, "CSDB")
    assert [e.name for e in db.entries] == ["grand.central.org", "test.example"]
    gco, test = db.entries
    assert gco.comment == "GCO Public CellServDB 01 Jan 2023"
    assert gco.linked_cell is None
    assert [h.address for h in gco.hosts] == ["18.9.48.14", "128.2.13.219"]
    assert gco.hosts[0].hostname == "grand.mit.edu"
    assert test.linked_cell == "linked.example"
    assert test.comment == "loopback test cell"
    assert [(h.address, h.hostname, h.clone) for h in test.hosts] == [
        ("127.1.0.1", "afs1.test.example", False),
        ("127.1.0.2", "afs2.test.example", True),
        ("127.1.0.3", "afs3", False),
        ("127.1.0.4", "afs4", False),
    ]
    assert test.hosts[0].origin == "CSDB:5"


def test_cell_word_rules():
    # the name is the first word: '>cell#x' is a cell called 'cell#x' in OpenAFS
    db = parse_cellservdb(">cell#x\n1.2.3.4 #h\n> spaced.example #c\n1.2.3.5 #h\n")
    assert [e.name for e in db.entries] == ["cell#x", "spaced.example"]


@pytest.mark.parametrize("line,what", [
    ("1.2.3.4", "can't parse host line"),              # no '#hostname'
    ("1.2.3.4 #", "can't parse host line"),            # empty hostname
    ("1.2.3 #h", "can't parse host line"),
    ("1.2.3.4.5 #h", "can't parse host line"),
    ("[1.2.3.4 #h", "can't parse host line"),
    ("host.example.com #h", "can't parse host line"),
    ("1.2.3.256 #h", "illegal IP address 1.2.3.256"),
    ("1.2.-3.4 #h", "illegal IP address"),
    ("# a comment", "can't parse host line"),          # OpenAFS has no comment lines
])
def test_bad_host_lines(line, what):
    with pytest.raises(ConfigError) as ei:
        parse_cellservdb(f">c.example\n1.1.1.1 #ok\n{line}\n", "/x/CellServDB")
    msg = str(ei.value)
    assert msg.startswith("/x/CellServDB:3: ")
    assert what in msg


def test_host_before_cell():
    with pytest.raises(ConfigError, match=r"^f:2: host line before the first '>cell'"):
        parse_cellservdb("\n1.2.3.4 #h\n>c\n", "f")


def test_empty_cell_line():
    with pytest.raises(ConfigError, match=r"^f:1: cell line without a cell name"):
        parse_cellservdb(">   \n", "f")


def test_blank_and_whitespace_lines_skipped():
    db = parse_cellservdb("\n   \n\t>c.example\n\n   10.0.0.1 #h\n\r\n")
    assert db.entries[0].hosts[0].address == "10.0.0.1"


def test_octets_normalised():
    db = parse_cellservdb(">c\n010.001.0.1 #h\n+1.2.3.4 #h2\n")
    assert [h.address for h in db.entries[0].hosts] == ["10.1.0.1", "1.2.3.4"]


def test_max_hosts(caplog):
    lines = ">c.example\n" + "".join(f"10.0.0.{i} #h{i}\n" for i in range(1, 11))
    with caplog.at_level(logging.WARNING, logger="kafs.cell"):
        db = parse_cellservdb(lines, "f")
    assert len(db.entries[0].hosts) == 8
    assert "too many hosts" in caplog.text


def test_lookup_rules():
    text = (">alpha.example.com\n1.0.0.1 #a\n"
            ">alphabet.example.org\n1.0.0.2 #b\n"
            ">beta.example.com\n1.0.0.3 #c\n"
            ">empty.example\n"
            ">beta.example.com\n1.0.0.4 #dup\n")
    db = parse_cellservdb(text)
    assert db.lookup("ALPHA.example.com").hosts[0].address == "1.0.0.1"
    assert db.lookup("alpha") is None                      # ambiguous prefix
    assert db.lookup("alphab").name == "alphabet.example.org"
    assert db.lookup("beta.example.com").hosts[0].address == "1.0.0.4"   # last wins
    assert db.lookup("empty.example") is None              # no hosts -> DNS
    assert db.lookup("gamma") is None
    assert db.cells() == ["alpha.example.com", "alphabet.example.org",
                          "empty.example", "beta.example.com"]


def test_aliases(tmp_path):
    (tmp_path / "CellServDB").write_text(">real.example\n1.2.3.4 #h\n")
    (tmp_path / "CellAlias").write_text("# comment\nreal.example  r\njunk\nother.example r2\n"
                                        "real.example  r2\n")
    db = read_cellservdb(tmp_path)
    assert db.lookup("r").name == "real.example"
    assert db.lookup("R2").name == "real.example"            # later line wins
    assert parse_cellalias("a b\n") == {"b": "a"}


def test_local_and_dist(tmp_path):
    (tmp_path / "CellServDB.local").write_text(">mine.example\n10.0.0.1 #m\n")
    (tmp_path / "CellServDB.dist").write_text(">theirs.example\n10.0.0.2 #t\n")
    db = read_cellservdb(tmp_path)
    assert [e.name for e in db.entries] == ["mine.example", "theirs.example"]
    assert db.files == (str(tmp_path / "CellServDB.local"), str(tmp_path / "CellServDB.dist"))
    # CellServDB itself, when present, is all that is read
    (tmp_path / "CellServDB").write_text(">only.example\n10.0.0.3 #o\n")
    assert [e.name for e in read_cellservdb(tmp_path).entries] == ["only.example"]


def test_dist_error_names_its_file(tmp_path):
    (tmp_path / "CellServDB.dist").write_text(">x\nbad line\n")
    with pytest.raises(ConfigError, match=r"CellServDB\.dist:2: "):
        read_cellservdb(tmp_path)


def test_missing(tmp_path):
    assert read_cellservdb(tmp_path) is None
    assert read_thiscell(tmp_path) is None


def test_thiscell(tmp_path):
    (tmp_path / "ThisCell").write_text("  test.example   extra\nsecond.line\n")
    assert read_thiscell(tmp_path) == "test.example"
    (tmp_path / "ThisCell").write_text("test.example")          # no newline
    assert read_thiscell(tmp_path) == "test.example"
    (tmp_path / "ThisCell").write_text("\nlater\n")
    with pytest.raises(ConfigError, match="ThisCell:1: empty"):
        read_thiscell(tmp_path)


def test_unreadable(tmp_path):
    (tmp_path / "CellServDB").mkdir()             # a directory: EISDIR
    with pytest.raises(ConfigError, match="cannot read"):
        read_cellservdb(tmp_path)


def test_non_utf8_survives():
    db = parse_cellservdb(">c\xe9ll\n1.2.3.4 #h\xff\n".encode("latin-1").decode("utf-8", "surrogateescape"))
    assert db.entries[0].hosts[0].address == "1.2.3.4"
