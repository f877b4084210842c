"""The AFS file client: volumes, vnodes, callbacks, path walk, cache."""
