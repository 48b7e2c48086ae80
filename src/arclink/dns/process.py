"""The DNS server in a process of its own, fed by the emulator: ``start_dns_process(names, ...)``.

Answering DNS in the emulator's process shares one interpreter lock with every ARM write: during
an onboarding burst the writes took a quarter of the DNS thread's time (bench/README.md, "The
live model under change"). In its own process the server keeps a core's worth of answers whatever
ARM does. It answers from names only (the networking and scopes, not the clusters), which it asks
the emulator for when the emulator's count of names writes (``names_changed``) has moved past
what it has: a query made after a write's response is answered with that write, as before.

The emulator binds the sockets (loopback only, or given), starts ``python -m arclink.dns.child``
with them and its end of a socket pair, and answers the child's requests on a thread of its own
with ``names()``: ``(generation, objects, onprem)``, the generation read before the objects.
``close()`` closes the link, which stops the child; it is killed by its PID if it does not stop.
When the emulator dies the kernel closes the link, and the child stops too. A child that dies
after it answered is replaced on the same sockets (up to ``MAX_RESTARTS`` times).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
import subprocess
import sys
import threading
from typing import Any, Callable

from arclink.dns.feed import Link, LinkClosed
from arclink.dns.server import _bind_pair
from arclink.limits import Limits
from arclink.sharedcounter import SharedCounter

__all__ = ["DnsProcess", "NamesSource", "START_TIMEOUT", "start_dns_process"]

log = logging.getLogger("arclink.dns")

START_TIMEOUT = 60.0  # interpreter start and imports on a loaded 2-core machine: seconds, not minutes
STOP_TIMEOUT = 5.0
MAX_RESTARTS = 5  # a process that keeps dying is a bug to fix, not to hide

# () -> (names generation, resources names depend on, the on-premises part of the model)
NamesSource = Callable[[], tuple[int, list[dict[str, Any]], dict[str, Any]]]


class DnsProcess:
    """A DNS server process: ``host``, ``port``, ``pid``, ``names_changed(n)``, ``wait_ready()``, ``close()``.

    The sockets stay open here too, so that a process that dies (a bug) is replaced on the same
    port: queries wait in the sockets meanwhile. One that dies before it ever answered is not.
    """

    def __init__(self, names: NamesSource, host: str = "127.0.0.1", port: int = 0, limits: Limits | None = None,
                 sockets: tuple[socket.socket, socket.socket] | None = None) -> None:
        self._names = names
        self.limits = limits or Limits()
        udp, tcp = sockets if sockets is not None else _bind_pair(host, port)
        self._sockets: tuple[socket.socket, ...] = (udp, tcp)
        self.host, self.port = udp.getsockname()[:2]
        self.counter = SharedCounter()
        self.pid = 0
        self.restarts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._link: Link | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: str | None = None
        self._closing = False
        self._lock = threading.Lock()  # a process is started, or the whole stopped, under it

    def names_changed(self, generation: int) -> None:
        """The emulator's count of writes that change what names resolve to is now ``generation``."""
        self.counter.set(generation)

    def start(self) -> None:
        """Start the process; ``wait_ready()`` says when it answers (queries wait in the sockets meanwhile)."""
        with self._lock:
            self._spawn()
        self._thread = threading.Thread(target=self._serve, name=f"arclink-dns-feed-{self.port}", daemon=True)
        self._thread.start()

    def _spawn(self) -> None:
        ours, theirs = socket.socketpair()
        udp, tcp = self._sockets
        fds = (udp.fileno(), tcp.fileno(), theirs.fileno(), self.counter.fd)
        limits = json.dumps(dataclasses.asdict(self.limits))
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "arclink.dns.child", "--udp", str(fds[0]), "--tcp", str(fds[1]),
                 "--link", str(fds[2]), "--counter", str(fds[3]), "--limits", limits],
                pass_fds=fds, stdin=subprocess.DEVNULL, close_fds=True)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.pid = self._proc.pid
        self._link = Link(ours)

    def _serve(self) -> None:
        while True:
            link, proc = self._link, self._proc
            assert link is not None and proc is not None
            answered = self._talk(link)
            link.close()
            if self._closing:
                return
            code = proc.wait()
            if not answered:
                self._error = self._error or f"the process stopped before it answered (exit code {code})"
                self._ready.set()
                return
            if self.restarts >= MAX_RESTARTS:
                log.error("the DNS server process (pid %d) stopped with exit code %d, the %d-th time: DNS queries go "
                          "unanswered until the emulator restarts", proc.pid, code, self.restarts + 1)
                return
            log.error("the DNS server process (pid %d) stopped with exit code %d; starting another on the same port",
                      proc.pid, code)
            with self._lock:
                if self._closing:
                    return
                self.restarts += 1
                self._ready.clear()  # wait_ready() waits for the new one
                try:
                    self._spawn()
                except OSError as exc:
                    log.error("the DNS server process could not be started again: %s", exc)
                    return

    def _talk(self, link: Link) -> bool:
        """Answer one process until its link closes; whether it said it was ready."""
        answered = False
        try:
            while True:
                message = link.recv()
                kind = message.get("kind")
                if kind == "want":
                    link.send(self._payload())
                elif kind == "ready":
                    answered = True
                    self._ready.set()
                elif kind == "failed":
                    self._error = str(message.get("error"))
        except LinkClosed:
            pass
        except Exception:
            log.exception("the link to the DNS process broke")
        return answered

    def _payload(self) -> dict[str, Any]:
        try:
            generation, objects, onprem = self._names()
        except Exception as exc:  # the child keeps answering from what it has
            log.exception("the names for the DNS process could not be read")
            return {"kind": "names", "error": f"the emulator could not read its names: {exc}"}
        return {"kind": "names", "generation": generation, "objects": objects, "onprem": onprem}

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Return once the process answers; RuntimeError saying why it does not."""
        if not self._ready.wait(timeout):
            raise RuntimeError(f"the DNS server process (pid {self.pid}) did not start in {timeout:g} s")
        if self._error is not None:
            raise RuntimeError(f"the DNS server process did not start: {self._error}")

    def close(self) -> None:
        with self._lock:
            if self._closing:
                return
            self._closing = True
            proc, link = self._proc, self._link
        if link is not None:
            link.close()  # the child's reader sees the end of the link and stops the server
        if proc is not None:
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                log.warning("the DNS server process (pid %d) did not stop; killing it", proc.pid)
                proc.kill()
                proc.wait()
        for s in self._sockets:
            s.close()
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT)
        self.counter.close()

    def __enter__(self) -> DnsProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<DnsProcess pid {self.pid} udp+tcp {self.host}:{self.port}>"


def start_dns_process(names: NamesSource, host: str = "127.0.0.1", port: int = 0, limits: Limits | None = None, *,
                      generation: int = 0, sockets: tuple[socket.socket, socket.socket] | None = None,
                      wait: bool = True) -> DnsProcess:
    """Start a DNS server process answering from ``names()``; ``generation``: the count it starts at.

    ``wait=False`` returns once the process is started (the caller calls ``wait_ready()``).
    """
    proc = DnsProcess(names, host, port, limits, sockets)
    proc.names_changed(generation)
    try:
        proc.start()
        if wait:
            proc.wait_ready()
    except BaseException:
        proc.close()
        raise
    return proc
