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

# Names are loaded on first use (PEP 562): ``from kafs.cell import Cell``
# does not import the client.conf, profile and DNS modules.
from kafs._lazy import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, globals(), {
    "cell": ("DEFAULT_CLIENT_CONF", "DEFAULT_CLIENT_DIR", "DEFAULT_SERVER_DIR",
             "SERVICE_PORTS", "Cell", "Server", "clear_cache", "local_cell_name",
             "resolve_confdir", "resolve_host"),
    "cellservdb": ("CellServDB", "CellServDBEntry", "CellServDBHost", "parse_cellservdb",
                   "read_cellservdb", "read_thiscell"),
    "clientconf": ("ClientConf", "ConfCell", "ConfServer", "parse_client_conf"),
    "dns": ("DNSLookup", "DNSLookupResult", "DNSServer", "rfc2782_order"),
    "profile": ("ProfileNode", "parse_profile", "read_profile"),
})
