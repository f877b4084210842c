"""com_err tables: bases, texts and afs_error_message behaviour (OpenAFS 1.8.9)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

from kafs.errors import AFSError, CallDead, RemoteAbort
from kafs.errors import tables as T

# name -> (base, number of codes); bases from protocol-notes section 6.
TABLES = {
    "U": (5376, 38),
    "VL": (363520, 33),
    "PT": (267264, 19),
    "BZ": (39424, 13),
    "VOLS": (1492325120, 18),
    "RXK": (19270400, 13),
    "KTC": (11862784, 11),
    "ACFG": (70354688, 11),
    "CMD": (3359744, 13),
    "KA": (180480, 43),
    "uae": (49733376, 123),
    "BUDB": (156303872, 32),
    "BUTC": (156566272, 22),
    "BUTM": (156568832, 21),
    "BUTX": (156571648, 31),
    "BUCD": (156288000, 16),
}

# (code, symbol, exact message) taken from the .et sources.
KNOWN = [
    (5376, "UNOQUORUM", "no quorum elected"),
    (5377, "UNOTSYNC", "not synchronization site (should work on sync site)"),
    (5388, "UDONE", "operation done after abort (or commmit)"),
    (5389, "UNOSERVERS", "no servers appear to be up"),
    (5413, "UMUTEXDESTROY", "failed to destroy per client mutex"),
    (363520, "VL_IDEXIST", "Volume Id entry exists in vl database"),
    (363524, "VL_NOENT", "No such entry"),
    (363527, "VL_BADNAME", "Volume name is illegal"),
    (363546, "VL_PERM", "No permission access"),
    (363547, "VL_NOMEM", "malloc(realloc) failed to alloc enough memory"),
    (363552, "VL_DBBAD", "Database is inconsistent"),
    (267264, "PREXIST", "Entry for name already exists"),
    (267266, "PRNOIDS", "Couldn't allocate an id for this entry"),
    (267268, "PRNOENT", "User or group doesn't exist"),
    (267272, "PRBADNAM", "Badly formed name (group prefix doesn't match owner?)"),
    (267282, "PRNAMETOOLONG", "name is too long (maximum 63 characters)"),
    (39424, "BZNOTACTIVE", "process not active"),
    (39435, "BZKEYINUSE",
     "kvno already used - have to remove existing kvno's before reuse"),
    (39436, "BZENCREQ",
     "this function requires encrypted input, use a newer client program"),
    (1492325120, "VOLSERTRELE_ERROR", "internal error releasing transaction"),
    (1492325123, "VOLSERDUMPERROR", "badly formatted dump(2)"),
    (1492325135, "VOLSERNOVOL", "no such volume"),
    (1492325137, "VOLSERFAILEDOP", "failed volume server operation"),
    (19270400, "RXKADINCONSISTENCY", "Security module structure inconsistent"),
    (19270405, "RXKADNOAUTH", "caller not authorized"),
    (19270409, "RXKADEXPIRED", "authentication expired"),
    (19270412, "RXKADILLEGALLEVEL", "caller not authorized to use encrypted connections"),
    (11862784, "KTC_ERROR", "an unexpected error was encountered"),
    (11862789, "KTC_NOPIOCTL", "AFS kernel pioctl doesn't exist"),
    (11862791, "KTC_NOCM", "Cache Manager is not initialized / afsd is not running"),
    (11862794, "KTC_TOKEN_MUTEX_FAIL", "AFS_KTC_Mutex failure"),
    (70354688, "AFSCONF_FAILURE", "mysterious failure"),
    (70354697, "AFSCONF_BADKEY", "key doesn't meet requirements"),
    (70354698, "AFSCONF_NOCELLNAME", "cannot determine local cell name"),
    (3359744, "CMD_EXCESSPARMS", "More than the maximum number of parameters defined"),
    (3359748, "CMD_USAGE", "Impossibly few aguments specified"),
    (3359751, "CMD_AMBIG", "<unused>"),
    (3359756, "CMD_HELP", "Help requested"),
    (180480, "KADATABASEINCONSISTENT", "AuthServer database is inconsistent"),
    (49733376, "UAEPERM", "Operation not permitted"),
    (156566272, "TC_DUMPERROR", "error in dump/restore process "),
]


@pytest.mark.parametrize("name", sorted(TABLES))
def test_base_and_size(name):
    base, count = TABLES[name]
    assert T.table_base(name) == base
    tb = T.get_table(name)
    assert tb.base == base and len(tb) == count
    assert T.table_name(base) == name.lower()
    assert T.table_name(base + count - 1) == name.lower()


def test_all_tables_listed_once():
    names = [tb.name for tb in T.iter_tables()]
    assert sorted(names) == sorted(TABLES)
    assert len({tb.base for tb in T.iter_tables()}) == len(names)


def test_base_computation_rules():
    assert T.table_base("A") == 1 << 8
    assert T.table_base("z") == 52 << 8
    assert T.table_base("a_") == (27 * 64 + 63) << 8
    assert T.table_base("zz") == (52 * 64 + 52) << 8
    for bad in ("", "ABCDE", "0AB", "_X", "A-B"):
        with pytest.raises(ValueError):
            T.table_base(bad)


@pytest.mark.parametrize("code,name", [
    (363524, "vl"), (5377, "u"), (1492325135, "vols"), (19270409, "rxk"),
    (0, ""), (110, ""), (255, ""), (256, "a"), (1234, "d"),
    (-1, "____"), (-450, "___9"), (-2**31, "f"), (2**31 - 1, "e___"),
])
def test_table_name(code, name):
    assert T.table_name(code) == name


@pytest.mark.parametrize("code,sym,msg", KNOWN)
def test_known_messages(code, sym, msg):
    assert T.error_message(code) == msg
    assert T.symbol(code) == sym
    assert T.code_from_name(sym) == code


@pytest.mark.parametrize("code,msg", [
    (-1, "server or network not responding"),
    (-2, "invalid RPC (RX) operation"),
    (-3, "server not responding promptly"),
    (-4, "unknown RPC error (-4)"),
    (-5, "unknown RPC error (-5)"),
    (-6, "unknown RPC error (-6)"),
    (-7, "port address already in use"),
    (-8, "unknown RPC error (-8)"),
    (-100, "unknown RPC error (-100)"),
    (-449, "unknown RPC error (-449)"),
    (-450, "RPC interface mismatch (-450)"),
    (-455, "RPC interface mismatch (-455)"),
    (-499, "RPC interface mismatch (-499)"),
    (-500, "unknown RPC error (-500)"),
    (-123456789, "unknown RPC error (-123456789)"),
])
def test_negative(code, msg):
    assert T.error_message(code) == msg


@pytest.mark.parametrize("code,msg", [
    (363600, "Unknown code vl 80 (363600)"),
    (363553, "Unknown code vl 33 (363553)"),
    (5631, "Unknown code u 255 (5631)"),
    (256, "Unknown code a 0 (256)"),
    (1235, "Unknown code d 211 (1235)"),
    (123456789, "Unknown code a0um 21 (123456789)"),
    (2**31 - 1, "Unknown code e___ 255 (2147483647)"),
])
def test_unknown(code, msg):
    assert T.error_message(code) == msg


def test_errno_range_uses_strerror():
    for code in (0, 1, 2, 13, 101, 108, 110, 111, 200, 255):
        assert T.error_message(code) == os.strerror(code)
    if sys.platform.startswith("linux"):
        assert T.error_message(110) == "Connection timed out"
        assert T.error_message(101) == "Network is unreachable"
        assert T.error_message(200) == "Unknown error 200"


def test_registered_tables_restrict_lookup():
    assert T.error_message(49733403) == "No space left on device"
    assert T.error_message(49733403, T.TRANSLATE_ET_TABLES) == "Unknown code uae 27 (49733403)"
    # bos registers what ka_Init does (U, KA, RXK, KTC, ACFG) plus CMD and BZ, not PT
    assert T.error_message(19270409, T.TOOL_TABLES["bos"]) == "authentication expired"
    assert T.error_message(267268, T.TOOL_TABLES["bos"]) == "Unknown code pt 4 (267268)"
    assert T.error_message(39425, ["bz"]) == "no such entity"
    # restriction never affects negative or errno-range codes
    assert T.error_message(-1, ()) == "server or network not responding"
    assert T.error_message(2, ()) == os.strerror(2)


def test_translate_et_line_format():
    assert T.translate_et(363524) == "363524 (vl).4 = No such entry"
    assert T.translate_et(-1) == "-1 (____).255 = server or network not responding"
    assert T.translate_et(49733376) == "49733376 (uae).0 = Unknown code uae 0 (49733376)"


def test_symbols():
    assert T.code_from_name("VL_NOENT") == 363524
    assert T.code_from_name("RX_CALL_DEAD") == -1
    assert T.code_from_name("RXGEN_OPCODE") == -455
    assert T.code_from_name("VRESTARTING") == T.code_from_name("RX_RESTARTING") == -100
    assert T.code_from_name("VBUSY") == 110
    assert T.code_from_name("VICETOKENDEAD") == 1235
    assert T.symbol(-100) == "RX_RESTARTING"
    assert T.symbol(110) == "VBUSY"
    assert T.symbol(errno.ENOENT) == "ENOENT"
    assert T.symbol(363600) is None
    with pytest.raises(KeyError):
        T.code_from_name("NO_SUCH_SYMBOL")


def test_data_sanity():
    seen = set()
    for tb in T.iter_tables():
        assert 0 < len(tb) <= 256
        for code, sym, msg in tb.codes():
            assert sym not in seen
            seen.add(sym)
            assert msg.isascii() and msg.isprintable()
            assert T.code_from_name(sym) == code


def test_afserror_uses_tables():
    e = RemoteAbort(363524)
    assert e.table == "vl" and e.message == "No such entry" and str(e) == "No such entry"
    assert str(AFSError(267268, "user foo")) == "User or group doesn't exist (user foo)"
    assert CallDead().message == "server or network not responding"


def test_errno_map():
    em = T.errno_map
    assert em.to_wire(errno.ENOSPC) == 108
    assert em.to_wire(errno.EDQUOT) == 109
    assert em.to_wire(errno.EPERM) == errno.EPERM
    assert em.to_local(108) == errno.ENOSPC
    assert em.to_local(109) == errno.EDQUOT
    assert em.to_local(102) == errno.EIO
    assert em.to_local(105) == errno.ETIMEDOUT
    assert em.to_local(110) == 110
    assert em.to_uae(errno.EPERM) == 49733376
    assert em.to_uae(errno.ENOENT) == 49733377
    assert em.from_uae(49733377) == errno.ENOENT
    assert em.to_local(49733376 + 27) == errno.ENOSPC
    assert em.from_uae(363524) == 363524


def test_import_is_lazy():
    code = (
        "import sys, kafs.errors\n"
        "assert 'kafs.errors.tables' not in sys.modules\n"
        "import kafs.errors.tables as t\n"
        "assert 'kafs.errors._etdata' not in sys.modules\n"
        "t.table_name(363524); t.error_message(-1)\n"
        "assert 'kafs.errors._etdata' not in sys.modules\n"
        "t.error_message(363524)\n"
        "assert 'kafs.errors._etdata' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_et_parser():
    from kafs.errors._etconv import parse_et

    text = (
        "# comment\nerror_table 2 ZZ  # trailing\n"
        '  ec ZZ_ONE, "first # not a comment"\n'
        "error_code ZZ_TWO,\n\t\"second \"\nend\n"
    )
    assert parse_et(text) == ("ZZ", [("ZZ_ONE", "first # not a comment"),
                                     ("ZZ_TWO", "second ")])
    with pytest.raises(ValueError):
        parse_et('et X\n ec A, "back\\slash"\nend\n')
    with pytest.raises(ValueError):
        parse_et('et X\n ec A = 3, "gap"\nend\n')


# --- cross-check against OpenAFS's own translate_et, where installed ---------

def _translate_et_binary():
    for path in ("/usr/bin/translate_et", "/usr/sbin/translate_et"):
        if os.access(path, os.X_OK):
            return path
    return None


TRANSLATE_ET = _translate_et_binary()


@pytest.mark.skipif(TRANSLATE_ET is None, reason="OpenAFS translate_et not installed")
def test_against_openafs_translate_et():
    import random

    codes = set(range(-600, 300)) | {-10000, -9999, -2**31, 2**31 - 1, 1234, 1235}
    for tb in T.iter_tables():
        codes.update(range(tb.base - 2, tb.base + 258))
    rnd = random.Random(1889)
    codes.update(rnd.randint(-2**31, 2**31 - 1) for _ in range(3000))
    codes = sorted(codes)
    bad = []
    for i in range(0, len(codes), 1000):
        chunk = codes[i:i + 1000]
        out = subprocess.run([TRANSLATE_ET, *map(str, chunk)], check=True,
                             capture_output=True, text=True).stdout.splitlines()
        assert len(out) == len(chunk)
        bad += [(line, T.translate_et(c)) for c, line in zip(chunk, out)
                if line != T.translate_et(c)]
    assert not bad, bad[:10]
