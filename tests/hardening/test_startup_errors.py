"""`serve` on a bad state directory: one sentence naming the file and the fix, exit 2, no traceback."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from arclink.stack import start_services
from tests.conftest import unavailable


def _serve(state: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "arclink", "serve", "--state", str(state), "--in-memory", *extra],
                          capture_output=True, text=True, timeout=60)


def _one_sentence(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    err = result.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for w in words:
        assert w in err, err


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    state = tmp_path_factory.mktemp("made")
    start_services(state, in_memory=True).stop()
    return state


@pytest.mark.parametrize("name, fix", [("ca.pem", "remove ca.pem and ca-key.pem"),
                                       ("ca-key.pem", "remove ca.pem and ca-key.pem"),
                                       ("arm-server.pem", "remove both"), ("arm-server-key.pem", "remove both"),
                                       ("gateway.pem", "remove both"), ("gateway-key.pem", "remove both"),
                                       ("token-signing-key.pem", "remove it")])
def test_a_garbage_pem_file_is_named(tmp_path, made, name, fix):
    state = tmp_path / "state"
    shutil.copytree(made, state)
    (state / name).write_text("-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n")
    _one_sentence(_serve(state), str(state / name), fix)


@contextlib.contextmanager
def _tmpfs(path: Path, options: str):
    path.mkdir(exist_ok=True)
    if os.geteuid() != 0:
        unavailable("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        unavailable(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def test_a_read_only_state_directory(tmp_path):
    with _tmpfs(tmp_path / "ro", "ro,mode=0700,size=64k") as state:
        _one_sentence(_serve(state), str(state / "serve.lock"), "Read-only file system", "make", "writable")


@pytest.mark.parametrize("free_pages", [0, 3, 6])
def test_a_full_disk(tmp_path, free_pages):
    """However much room is left, the first write that fails is named."""
    with _tmpfs(tmp_path / "full", "mode=0700,size=64k") as disk:
        state = disk / "state"
        with open(disk / "filler", "wb", buffering=0) as fh:
            with contextlib.suppress(OSError):
                while True:
                    fh.write(b"\0" * 4096)
        os.truncate(disk / "filler", os.path.getsize(disk / "filler") - free_pages * 4096)
        _one_sentence(_serve(state), str(state), "the disk is full", "free space")
