"""Rx: packet codecs, the sans-I/O core, security classes and the asyncio endpoint."""
