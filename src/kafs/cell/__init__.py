"""Finding a cell's servers: ThisCell/CellServDB, kAFS client.conf, DNS.

>>> from kafs.cell import Cell
>>> cell = Cell()                    # local cell: $AFSCELL, ThisCell, client.conf
>>> cell.name
'test.example'
>>> cell.vlservers()
[('127.1.0.1', 7003)]

See :mod:`kafs.cell.cell` for the search order and the environment
variables (``KAFS_CONF_DIR``, ``KAFS_SERVER_CONF_DIR``, ``KAFS_CLIENT_CONF``,
``KAFS_DNS``, and OpenAFS's ``AFSCONF``/``AFSCELL``).
"""

from .cell import (DEFAULT_CLIENT_CONF, DEFAULT_CLIENT_DIR, DEFAULT_SERVER_DIR,
                   SERVICE_PORTS, Cell, Server, clear_cache, local_cell_name,
                   resolve_confdir, resolve_host)
from .cellservdb import (CellServDB, CellServDBEntry, CellServDBHost,
                         parse_cellservdb, read_cellservdb, read_thiscell)
from .clientconf import ClientConf, ConfCell, ConfServer, parse_client_conf
from .dns import DNSLookup, DNSLookupResult, DNSServer, rfc2782_order
from .profile import ProfileNode, parse_profile, read_profile

__all__ = [
    "Cell", "Server", "SERVICE_PORTS", "clear_cache", "local_cell_name",
    "resolve_confdir", "resolve_host",
    "DEFAULT_CLIENT_DIR", "DEFAULT_SERVER_DIR", "DEFAULT_CLIENT_CONF",
    "CellServDB", "CellServDBEntry", "CellServDBHost", "parse_cellservdb",
    "read_cellservdb", "read_thiscell",
    "ClientConf", "ConfCell", "ConfServer", "parse_client_conf",
    "DNSLookup", "DNSLookupResult", "DNSServer", "rfc2782_order",
    "ProfileNode", "parse_profile", "read_profile",
]
