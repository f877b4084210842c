"""rxkad cryptography: fcrypt, DES tickets, rxkad-kdf, packet sealing and
the challenge/response handshake.

Modules
-------
``fcrypt``   fcrypt ECB/PCBC and the header checksum; C accelerator
             ``kafs.auth._fcrypt`` when built, pure Python otherwise
             (``KAFS_NO_C=1`` forces pure Python; ``fcrypt.BACKEND`` says which).
``rxkad``    preSeq, packet checksum, seal/unseal per level, CHALLENGE and
             RESPONSE bodies, :class:`~kafs.auth.crypto.rxkad.ConnectionCrypto`.
``ticket``   Kerberos-4-style rxkad tickets (DES-PCBC), lifetimes, time checks.
``kdf``      rxkad-kdf (session key from a Kerberos 5 key), rxkad-k5 token fields.
``des``      single DES and DES-PCBC (tickets only).

How the rxkad security class (``kafs.rx.security``, index 2) uses them
-----------------------------------------------------------------------
Per connection (``conn.sec``) it keeps a :class:`ConnectionCrypto` built from
the session key, the connection's epoch and cid, and the level; building it
computes ``preSeq`` (:func:`compute_pre_seq`).  The client knows the level
at once; the server builds it after a good RESPONSE.

Outgoing DATA packet -- ``prepare_packet(conn, call, channel, seq, payload)``
returns ``conn.sec.seal(call, channel, seq, payload)``:

* clear: payload unchanged; header checksum only (:func:`packet_checksum`,
  fcrypt ECB of ``preSeq XOR (call, channel|seq)``, bytes 4-5).
* auth:  :func:`seal_payload` prepends the sealed length word, pads to 8
  bytes minimum and ECB-encrypts the first block (``fcrypt.ecb_encrypt``);
  plus the checksum.  Header/trailer 4/4.
* crypt: :func:`seal_payload` prepends the length word and 4 zero bytes,
  pads to a multiple of 8 and PCBC-encrypts everything with IV = session
  key (``fcrypt.pcbc_encrypt``, the C hot loop); plus the checksum.
  Header/trailer 8/8.

Incoming DATA packet -- ``check_packet(conn, call, channel, seq, cksum,
payload)`` returns ``conn.sec.unseal(call, channel, seq, payload, cksum)``: the
checksum is verified (``fcrypt.header_checksum``) once a non-zero one has
been seen on the connection; then clear returns the payload, auth
ECB-decrypts the first 8 bytes (``fcrypt.ecb_decrypt``) and crypt
PCBC-decrypts all (``fcrypt.pcbc_decrypt``); both check the sealed word and
cut the payload to the sealed length.  Failures raise ``AFSError``
(RXKADSEALEDINCON / RXKADDATALEN), which aborts the connection.
Non-DATA packets carry checksum 0 and pass untouched.

Handshake -- server ``make_challenge``: :func:`make_challenge` with a random
nonce and the minimum level (v2 once the client has sent checksums).
Client ``respond_to_challenge``: :func:`respond_to_challenge` with the
token's session key, kvno and ticket and ``conn.call_numbers_for_response()``.
Server ``verify_response``: :func:`parse_response`; pick the server key by
kvno (256/213: Kerberos 5 tickets, decoded elsewhere; the session key then
comes from :func:`kdf.derive_des_key`) and :func:`ticket.decode_ticket`;
:func:`ticket.check_times` (0 -> RXKADNOAUTH, -1 -> RXKADEXPIRED, -2 ->
RXKADBADTICKET); :func:`open_response` with the ticket's session key; check
``inc_challenge_id == nonce + 1`` (RXKADOUTOFSEQUENCE) and ``min_level <=
level <= 2`` (RXKADLEVELFAIL); ``conn.adopt_call_numbers(call_numbers)``;
build the ``ConnectionCrypto`` at the response's level and remember the
ticket's end time (packets after it -> RXKADEXPIRED).
"""

# The names below are re-exported lazily (PEP 562): importing one submodule,
# e.g. ``kafs.auth.crypto.rxkad`` for the level constants, must not build the
# DES tables of ``ticket``/``des`` (~50 ms) for tools that never need them.
from kafs._lazy import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, globals(), {
    "fcrypt": ("BACKEND",),
    "rxkad": ("LEVEL_AUTH", "LEVEL_CLEAR", "LEVEL_CRYPT", "HEADER_SIZE", "Challenge",
              "ConnectionCrypto", "Response", "ResponseContents", "compute_pre_seq",
              "make_challenge", "make_response", "open_response", "packet_checksum",
              "parse_challenge", "parse_response", "respond_to_challenge",
              "response_checksum", "seal_payload", "sealed_length", "unseal_payload"),
    "ticket": ("Ticket", "TicketError", "check_times", "decode_ticket", "encode_ticket",
               "life_to_time", "time_to_life"),
    "kdf": ("derive_des_key", "rxkad_kdf", "rxkad_k5_token"),
})
