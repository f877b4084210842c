"""Rx security classes: the interface and rxnull (index 0).

A *security object* is what the application passes to a connection
(client side) or to ``serve`` (server side, a list).  The core calls it at
these points, always with the core's connection object (``conn``), whose
attribute ``conn.sec`` is free for the class to hold per-connection state
(keys, preSeq, levels...), and ``conn.authenticated`` which the class
sets once a connection may carry calls:

* ``new_connection(conn, server)``: connection created; set ``conn.sec``
  and ``conn.authenticated``.  rxnull sets authenticated at once; a class
  that needs a handshake leaves it False on the server side, so the core
  holds incoming calls and sends a CHALLENGE.
* ``header_size`` / ``trailer_size``: per-packet bytes the class adds, which
  reduce the user payload of each DATA packet.  The core copies them to
  ``conn.header_size`` / ``conn.trailer_size`` when the connection is made
  and sizes packets from those; a class whose level is only settled by the
  handshake (the rxkad server) updates the connection's values.
* ``conn.using_pkt_cksum`` (server connections): set by the core once a
  packet with a non-zero header checksum arrived (OpenAFS
  RX_CONN_USING_PACKET_CKSUM; rxkad then sends v2 challenges).
* ``prepare_packet(conn, call_number, channel, seq, payload) -> (payload, cksum)``:
  outgoing DATA (one per jumbo sub-packet); ``cksum`` goes to the header's
  16-bit spare field.  It must depend only on the arguments and the
  connection (not on the serial, which changes per transmission): the core
  prepares packets ahead of the send window and retransmits the same bytes.
* ``prepare_packets(conn, call_number, channel, seq, payloads) -> [(payload, cksum)]``:
  the same for consecutive packets ``seq, seq + 1, ...`` of one call; the
  default calls ``prepare_packet`` for each (rxkad seals them in one go).
* ``check_packet(conn, call_number, channel, seq, cksum, payload) -> payload``:
  incoming DATA (one per jumbo sub-packet; ``cksum`` is the header's 16-bit
  spare field); raise :class:`kafs.errors.AFSError` to abort the whole
  connection with its code.
* Server side: ``make_challenge(conn, now) -> bytes`` (CHALLENGE body) and
  ``verify_response(conn, body, now)`` which sets ``conn.authenticated`` or
  raises AFSError (the connection is aborted with that code).  The core may
  also pass the client's call numbers back through
  ``conn.adopt_call_numbers(list)`` when the response carries them.
* Client side: ``respond_to_challenge(conn, body) -> bytes | None``: the
  RESPONSE body, or None to ignore the challenge.  ``conn.call_numbers_for_response()``
  gives the four channel numbers to put into it.
* ``key()``: hashable identity used to share connections (same class,
  same credentials -> same connection).
* ``stats(conn) -> dict``: optional values for rxdebug's secStats
  (``type``, ``level``, ``flags``, ``expires``).
"""

from __future__ import annotations


class SecurityClass:
    """Base class; the defaults are those of a class with no handshake."""

    index = -1
    name = "?"
    header_size = 0
    trailer_size = 0
    debug_type = 0          # rxdebug secStats type (1 null, 3 kad)

    def key(self):
        return (self.index, id(self))

    def new_connection(self, conn, server: bool) -> None:
        conn.sec = None
        conn.authenticated = True

    def prepare_packet(self, conn, call_number, channel, seq, payload):
        return payload, 0

    def prepare_packets(self, conn, call_number, channel, seq, payloads):
        pp = self.prepare_packet
        return [pp(conn, call_number, channel, seq + i, p) for i, p in enumerate(payloads)]

    def check_packet(self, conn, call_number, channel, seq, cksum, payload):
        return payload

    # server side
    def make_challenge(self, conn, now) -> bytes | None:
        return None

    def verify_response(self, conn, body, now) -> None:
        conn.authenticated = True

    # client side
    def respond_to_challenge(self, conn, body) -> bytes | None:
        return None

    def stats(self, conn) -> dict:
        return {"type": self.debug_type, "level": 0, "flags": 1, "expires": 0}


class RxNull(SecurityClass):
    """Security index 0: no authentication, nothing added to packets."""

    index = 0
    name = "null"
    debug_type = 1

    def key(self):
        return (0,)


rxnull = RxNull()


def resolve(security) -> SecurityClass:
    return rxnull if security is None else security
