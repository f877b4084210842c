"""Property tests: any text given to the configuration parsers yields a
result or a ConfigError -- never another exception, never a hang."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kafs.cell import parse_cellservdb, parse_client_conf, parse_profile
from kafs.cell.cellservdb import parse_cellalias
from kafs.errors import ConfigError

# text biased towards the characters the formats care about
alphabet = st.sampled_from(list(">[]{}#=;*\"\\.:/ \t\r\n0123456789abcxyz-_") + ["\x00", "\u00e9", "\udcff"])
texts = st.text(alphabet, max_size=400)
lines = st.lists(st.one_of(
    st.just(">c.example #x"), st.just("1.2.3.4 #h"), st.just("[1.2.3.4] #h"),
    st.just("[cells]"), st.just("c = {"), st.just("}"), st.just("}*"),
    st.just("servers = {"), st.just("s = {"), st.just("address = 1.2.3.4:7003"),
    st.just("type = ptserver"), st.just("include /nonexistent"),
    st.text(alphabet, max_size=30)), max_size=40).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(texts, lines))
def test_cellservdb_never_crashes(text):
    try:
        db = parse_cellservdb(text, "f")
    except ConfigError as e:
        assert str(e).startswith("f:")
    else:
        for e in db.entries:
            assert len(e.hosts) <= 8
            db.lookup(e.name)
    parse_cellalias(text)


@settings(max_examples=300, deadline=None)
@given(st.one_of(texts, lines))
def test_client_conf_never_crashes(text):
    try:
        parse_client_conf(parse_profile(text, "f"))
    except ConfigError as e:
        assert str(e).startswith("f:")
