"""Errors as values with codes, and the one that carries a place in a topology file."""

from __future__ import annotations


class ArclinkError(Exception):
    """Base class: ``code`` is machine-readable, ``str()`` is one sentence for a person."""

    code = "ArclinkError"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        if code:
            self.code = code


class TopologyError(ArclinkError):
    """Unusable topology input: where (file, line, path into the document) and why."""

    code = "InvalidTopology"

    def __init__(self, message: str, *, path: str = "$", file: str | None = None, line: int | None = None,
                 code: str | None = None):
        super().__init__(message, code)
        self.message = message
        self.path = path
        self.file = file
        self.line = line

    def __str__(self) -> str:
        # One line, as compilers print it: file:line: at $.path: message
        where = self.file or "<topology>"
        if self.line:
            where += f":{self.line}"
        at = f" at {self.path}:" if self.path and self.path != "$" else ""
        return f"{where}:{at} {self.message}"
