"""Pure tests of the pieces bos computes itself: the AFS string-to-key
(vectors: the keys OpenAFS's bos addkey made on the test cell, read back
with listkeys -showkey), ktime_ParsePeriodic, the salvager command line,
and the C number parsers bos uses (atoi, util_GetInt32)."""

from __future__ import annotations

import pytest

from kafs.api.bos import (RestartTime, SalvageArgumentError, TimeSyntaxError,
                          parse_periodic, salvager_command)
from kafs.auth.crypto.afs_s2k import string_to_key
from kafs.cli.bos.addkey import atoi
from kafs.cli.bos.setrestricted import get_int32


def octal(s: str) -> bytes:
    return bytes(int(s[i + 1:i + 4], 8) for i in range(0, len(s), 4))


@pytest.mark.parametrize("password,realm,key", [
    (b"abc", "test.example", r"\142\255\250\253\142\203\340\153"),
    (b"abcdefgh", "test.example", r"\236\326\150\136\352\155\364\222"),
    (b"longerpassword", "test.example", r"\075\236\172\351\130\331\352\343"),
    (b"x", "test.example", r"\332\135\331\326\364\345\203\241"),
    (b"x", "OTHER.CELL", r"\221\316\205\236\357\212\362\304"),     # unknown cell: as given
])
def test_string_to_key(password, realm, key):
    assert string_to_key(password, realm) == octal(key)


@pytest.mark.parametrize("text,want", [
    ("never", (0x10, 0, 0, 0, 0)), ("now", (0x20, 0, 0, 0, 0)),
    ("at 5:00 am", (7, 5, 0, 0, 0)), ("sun 4:00", (15, 4, 0, 0, 0)),
    ("every sat 11:59:59 pm", (15, 23, 59, 59, 6)), ("12 am", (7, 0, 0, 0, 0)),
    ("12 pm", (7, 12, 0, 0, 0)), ("thur", (8, 0, 0, 0, 4)),
    ("65536", (7, 0, 0, 0, 0)),            # a C short: 65536 is hour 0
    ("1:2:3:4", (7, 1, 2, 3, 0)), ("sat never", (0x18, 0, 0, 0, 6)),
])
def test_parse_periodic(text, want):
    t = parse_periodic(text)
    assert (t.mask, t.hour, t.min, t.sec, t.day) == want


@pytest.mark.parametrize("text", ["13 am", "4 pm pm", "pm", "24:00", "1:60", "Sun",
                                  "x", "1a", "a" * 257 + " never"])
def test_parse_periodic_errors(text):
    with pytest.raises(TimeSyntaxError):
        parse_periodic(text)


def test_display():
    assert RestartTime(15, 16, 5, 9, 6).display() == "at sat 4:05:09 pm"
    assert RestartTime(7, 0, 30, 0, 0).display() == "at 12:30 am"


def test_salvager_command():
    assert salvager_command() == "/usr/afs/bin/salvager -force "
    assert salvager_command("b", "7") == "/usr/afs/bin/salvager /vicepb 7"
    assert salvager_command("27", "7", dafs=True, parallel="2") == \
        "/usr/afs/bin/salvageserver -client /vicepab 7"
    assert salvager_command("/vicepa", parallel="all4", tmpdir="/t", orphans="attach",
                            salvagedirs=True) == ("/usr/afs/bin/salvager -force /vicepa "
                                                  "-parallel all4 -tmpdir /t -orphans "
                                                  "attach -salvagedirs")
    with pytest.raises(SalvageArgumentError) as e:
        salvager_command("zz9")
    assert e.value.code == 22
    # 29 + 9 + t: at most 256 bytes with the NUL
    salvager_command(tmpdir="t" * 217)
    with pytest.raises(SalvageArgumentError) as e:
        salvager_command(tmpdir="t" * 218)
    assert e.value.code == 7 and str(e.value) == "command line too big"


@pytest.mark.parametrize("text,want", [("12", 12), (" -5", -5), ("7x", 7), ("abc", 0),
                                       ("+3", 3), ("99999999999", 1215752191),
                                       ("99999999999999999999", -1)])
def test_atoi(text, want):
    assert atoi(text) == want


@pytest.mark.parametrize("text,want", [("1", 1), ("0", 0), ("010", 8), ("0x1F", 31),
                                       ("-1", -1), (" \t2", 2), ("4294967297", 1),
                                       ("1x", None), ("09", None), ("", 0)])
def test_get_int32(text, want):
    assert get_int32(text) == want
