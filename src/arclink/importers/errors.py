"""What an importer says when it cannot go on: one sentence naming the input and the fix."""

from __future__ import annotations


class ImportFailure(Exception):
    """The import cannot complete; ``str()`` is the one line to print, ``code`` the exit code."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def at(file: str, line: int | None, message: str) -> ImportFailure:
    """A failure placed in an input file: ``file:line: message``."""
    return ImportFailure(f"{file}:{line}: {message}" if line else f"{file}: {message}")
