"""The state directory's files, written so that another local user can neither read nor redirect them.

The directory holds the bearer token, the CA key and client secrets. It is created 0700, its
secret files 0600, and nothing in it is written through a symlink: a file is written to a
temporary name created exclusively (``O_CREAT|O_EXCL|O_NOFOLLOW``, random suffix) and renamed
into place, so a planted ``endpoints.json.tmp`` or ``serve.lock`` link never redirects a
write to the file it points at. The lock is the same for ``arclink serve`` and
``arclink state import``: one writer per directory.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import stat
from pathlib import Path
from typing import IO, Iterator

__all__ = ["StateDirError", "lock_state", "open_state_dir", "private_umask", "write_private", "write_public"]

LOCK_FILE = "serve.lock"


class StateDirError(Exception):
    """The state directory will not do: ``message`` is one sentence with the fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def open_state_dir(path: str | Path) -> Path:
    """The directory, created 0700 if new; refused if another user may write in it or it is not a directory."""
    d = Path(path).resolve()
    try:
        with private_umask():
            d.mkdir(parents=True, exist_ok=True)
        st = os.stat(d)
    except FileExistsError:
        raise StateDirError(f"{d} is not a directory; give --state a directory.") from None
    except OSError as exc:
        raise StateDirError(f"cannot create the state directory {d} ({exc.strerror}); create it or use another "
                            "--state.") from None
    if not stat.S_ISDIR(st.st_mode):
        raise StateDirError(f"{d} is not a directory; give --state a directory.")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise StateDirError(f"the state directory {d} is writable by other users, who could replace its files; run "
                            f"'chmod go-w {d}' (or 'chmod 700 {d}') or use another --state.")
    return d


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """Files and directories created inside are for their owner only (SQLite creates arm.db and its -wal, -shm)."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def _write(path: Path, data: bytes, mode: int) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        try:
            os.fchmod(fd, mode)  # the umask may have taken bits away
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)  # rename replaces a link at ``path`` itself, never its target
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OSError(exc.errno, exc.strerror, str(path)) from None  # name the file meant, not the temporary
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_private(path: str | Path, data: bytes | str) -> None:
    """Write ``path`` (mode 0600) atomically, through no symlink."""
    _write(Path(path), data.encode("utf-8") if isinstance(data, str) else data, 0o600)


def write_public(path: str | Path, data: bytes | str) -> None:
    """Write ``path`` (mode 0644: a certificate clients read) atomically, through no symlink."""
    _write(Path(path), data.encode("utf-8") if isinstance(data, str) else data, 0o644)


def lock_state(state_dir: Path) -> IO[str] | None:
    """Take the directory's writer lock; None when another process holds it. Close the file to let go.

    The lock file is opened without following a link, and a file that is not a regular file
    of ours is refused rather than written.
    """
    path = Path(state_dir) / LOCK_FILE
    try:
        with private_umask():
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StateDirError(f"{path} is a symbolic link, which arclink does not follow; remove it.") from None
        raise
    fh = os.fdopen(fd, "r+", encoding="utf-8")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        fh.close()
        raise StateDirError(f"{path} is not a regular file; remove it.")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        return None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
    except OSError as exc:  # a full disk: say which file
        fh.close()
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    return fh


def lock_holder(state_dir: Path) -> str:
    """The lock holder's pid as its lock file says, for messages."""
    try:
        fd = os.open(Path(state_dir) / LOCK_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, encoding="utf-8", errors="replace") as fh:
            return fh.read(200).strip()
    except OSError:
        return ""
