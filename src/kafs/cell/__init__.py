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
_WHERE = {
    "cell": ("DEFAULT_CLIENT_CONF", "DEFAULT_CLIENT_DIR", "DEFAULT_SERVER_DIR",
             "SERVICE_PORTS", "Cell", "Server", "clear_cache", "local_cell_name",
             "resolve_confdir", "resolve_host"),
    "cellservdb": ("CellServDB", "CellServDBEntry", "CellServDBHost", "parse_cellservdb",
                   "read_cellservdb", "read_thiscell"),
    "clientconf": ("ClientConf", "ConfCell", "ConfServer", "parse_client_conf"),
    "dns": ("DNSLookup", "DNSLookupResult", "DNSServer", "rfc2782_order"),
    "profile": ("ProfileNode", "parse_profile", "read_profile"),
}
_MODULE_OF = {name: mod for mod, names in _WHERE.items() for name in names}


def __getattr__(name):
    mod = _MODULE_OF.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value


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
