"""kafs._ip (IP literals without importing ipaddress on the hot path)
against ipaddress itself."""

from __future__ import annotations

import ipaddress

import pytest

from kafs._ip import ip_literal, is_loopback

CASES = ["1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3",
         "1.2.3.4.5", " 1.2.3.4", "1.2.3.4 ", "1.2.3.04", "\u0661.2.3.4", "1.2.3.4\x00", "",
         "localhost", "127.1", "0x7f.0.0.1", "127.0.0.1", "127.1.0.1", "127.255.255.255",
         "128.0.0.1", "::1", "::", "::ffff:127.0.0.1", "fe80::1%eth0", "1.2.3.4%eth0",
         "+1.2.3.4", "1.2.3.-4", "1..3.4", "1.2.3.4\n", "\udcff", "0.0.0.00", "10.0.0.1/32",
         "1.2.3.4:80", "2001:DB8::1", "2001:db8:0:0:0:0:0:1",
         3232235777, b"\x7f\x00\x00\x01", ipaddress.ip_address("1.2.3.4"), b"xx"]


@pytest.mark.parametrize("text", CASES, ids=repr)
def test_same_as_ipaddress(text):
    try:
        want = str(ipaddress.ip_address(text))
    except ValueError:
        want = None
    assert ip_literal(text) == want
    try:
        loop = ipaddress.ip_address(text).is_loopback
    except ValueError:
        loop = False
    assert is_loopback(text) is loop


def test_dotted_quads_like_ipaddress():
    import random
    rng = random.Random(7)
    parts = ["0", "00", "1", "01", "007", "9", "10", "99", "100", "199", "255", "256", "999",
             "1000", "", "a", "\u0661", "+1", " 1", "1 ", "-0", "0x1", "\u00b9"]
    for _ in range(5000):
        n = rng.choice([3, 4, 4, 4, 5])
        text = ".".join(rng.choice(parts) for _ in range(n))
        try:
            want = str(ipaddress.ip_address(text))
        except ValueError:
            want = None
        assert ip_literal(text) == want, repr(text)
