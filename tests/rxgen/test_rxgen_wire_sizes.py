"""Wire sizes of the real interfaces, as measured against OpenAFS 1.8.9's XDR routines."""

import pytest

from kafs.rpc import afscbint, afsint, pr, runtime, vl
from kafs.xdr import Decoder, Encoder


@pytest.mark.parametrize("cls,size", [
    (vl.vldbentry, 384),
    (vl.nvldbentry, 476),
    (vl.uvldbentry, 1048),
    (pr.prcheckentry, 304),
    (runtime.afsUUID, 44),
    (afsint.AFSFetchStatus, 84),
    (afsint.AFSFid, 12),
    (afscbint.interfaceAddr, 4 + 44 + 3 * 32 * 4),
], ids=lambda x: getattr(x, "__name__", str(x)))
def test_struct_size(cls, size):
    e = Encoder()
    cls().encode(e)
    assert len(e) == size
    assert cls._xdr_size == size
    d = Decoder(e.getvalue())
    assert cls.decode(d) == cls()
    d.done()


def test_namelist_with_one_name_is_260_bytes():
    e = Encoder()
    pr._PR_NameToID_ienc(e, ["admin"])
    assert len(e) == 260
    w = e.getvalue()
    assert w[:4] == b"\0\0\0\x01"
    assert w[4:24] == b"\0\0\0a\0\0\0d\0\0\0m\0\0\0i\0\0\0n"


def test_nvldbentry_layout():
    ent = vl.nvldbentry(name="root.cell", nServers=1, volumeId=[536870912, 536870913, 0],
                        flags=vl.VLF_RWEXISTS)
    ent.serverNumber[0] = 0x7F000001
    e = Encoder()
    ent.encode(e)
    w = e.getvalue()
    assert w[:4] == b"\0\0\0r"
    assert w[260:264] == b"\0\0\0\x01"  # nServers after 65 ints of name
    assert w[264:268] == b"\x7f\0\0\x01"
    d = Decoder(w)
    assert vl.nvldbentry.decode(d) == ent
