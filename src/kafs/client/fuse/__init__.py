"""The FUSE mount of the cache manager (pyfuse3): ``ops`` is the filesystem,
``mount`` the ``kafs-mount`` program."""
