"""What an importer says when it cannot go on: one sentence naming the input and the fix.

``read_text`` reads an input file, turning every way it can fail into that sentence.
"""

from __future__ import annotations

from pathlib import Path


class ImportFailure(Exception):
    """The import cannot complete; ``str()`` is the one line to print, ``code`` the exit code."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def at(file: str, line: int | None, message: str) -> ImportFailure:
    """A failure placed in an input file: ``file:line: message``."""
    return ImportFailure(f"{file}:{line}: {message}" if line else f"{file}: {message}")


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """The text of an input file, or ``ImportFailure`` naming it."""
    try:
        return path.read_text(encoding=encoding)
    except FileNotFoundError:
        raise ImportFailure(f"{path}: file not found.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFailure(f"{path}: cannot read it ({exc}).") from None
