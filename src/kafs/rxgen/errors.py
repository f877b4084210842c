"""Compile errors of the .xg compiler."""

from __future__ import annotations

from kafs.errors import KafsError


class CompileError(KafsError):
    """A problem in an .xg file; ``str()`` is ``file:line: message``."""

    def __init__(self, file: str, line: int, message: str):
        self.file = file
        self.line = line
        self.msg = message
        super().__init__(f"{file}:{line}: {message}")
