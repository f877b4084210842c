"""kafs.rpc: the .xg interface files and the modules kafs.rxgen generates from them.

``vl``, ``pr``, ``bozo``, ``volser``, ``afsint`` (RXAFS), ``afscbint``
(RXAFSCB), ``ubik`` (VOTE_/DISK_), ``rxstat`` (RXSTATS_) and ``common`` are
generated (``scripts/regen-rpc``; never edit them by hand); ``runtime`` is
what they call.  Import the interface modules directly, e.g.
``from kafs.rpc import vl``.
"""
