"""Authentication: rxkad cryptography (:mod:`kafs.auth.crypto`), tokens,
server keys, -localauth and Kerberos (aklog)."""
