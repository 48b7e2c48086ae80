"""The real DNS engines of the lab, started inside their namespaces by PID.

Each site's server is rendered by ``arclink export`` (``onprem.site_dns`` and the engine's
renderer) with the lab's only change: a working directory for pid and zone files, and a
public resolver in the lab's internet namespace as the upstream. The DNS private resolver
inbound endpoints and the public resolvers are plain dnsmasq forwarders: they ask onward
from their own address, so the emulator's DNS picks its view by that real source.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from arclink.export import dnsconf
from arclink.export.onprem import Options, Server, SiteDns
from arclink.lab.netns import inside
from arclink.lab.plan import Forwarder, SiteDnsPlan

BINARIES = {"bind": "named", "unbound": "unbound", "dnsmasq": "dnsmasq"}


class EngineError(Exception):
    """An engine is missing or did not start; ``str()`` says which and why."""


def binary(engine: str) -> str:
    path = shutil.which(BINARIES[engine]) or shutil.which(BINARIES[engine], path="/usr/sbin:/sbin")
    if path is None:
        raise EngineError(f"{BINARIES[engine]} is not installed; install it ({engine}) or choose another --dns-engine.")
    return path


def as_configured(site, opts: Options) -> SiteDns:
    """The site's DNS server as the topology says it is configured today (right or wrong).

    ``arclink export`` writes what the server should hold; the lab must run what the site
    holds, so a broken example fails for real. The export's renderers write it either way.
    """
    dns = site.spec.dns
    forwards = [(cf.zone.rstrip("."), [Server(t) for t in cf.targets]) for cf in dns.conditional_forwarders]
    records, seen = [], set()
    for r in dns.records:
        if r.type == "A" and r.addresses and r.name.lower() not in seen:
            seen.add(r.name.lower())
            records.append((r.name.rstrip(".").lower(), r.addresses[0]))
    upstream = opts.upstream if dns.upstream == "internet" else Server(dns.upstream)
    return SiteDns(site.name, "as configured", opts.listen, [str(n) for n in site.networks], forwards, records,
                   upstream, ["as the topology configures it"])


def site_config(ix, plan: SiteDnsPlan, workdir: Path) -> tuple[list[str], dict[str, str]]:
    """(command, files) for one site's server: its own configuration, rendered by the export."""
    site = ix.site(plan.site)
    opts = Options(workdir=str(workdir), listen=Server(plan.address), upstream=Server(plan.upstream))
    d = as_configured(site, opts)
    files = dnsconf.RENDERERS[plan.engine](d, opts)
    if plan.engine == "bind":
        # the lab's internet DNS is unsigned: validating against the real root's key would fail
        # every public name (SERVFAIL, "broken trust chain") where a real site resolves it
        files["named.conf"] = files["named.conf"].replace(
            "dnssec-validation auto;", "dnssec-validation no;  // arclink lab: its internet is unsigned")
    exe = binary(plan.engine)
    if plan.engine == "bind":
        cmd = [exe, "-g", "-4", "-u", "root", "-c", str(workdir / "named.conf")]
    elif plan.engine == "unbound":
        cmd = [exe, "-d", "-c", str(workdir / "unbound.conf")]
    else:
        cmd = [exe, "-k", "-C", str(workdir / "dnsmasq.conf")]
    return cmd, files


def forwarder_config(fwd: Forwarder, workdir: Path) -> tuple[list[str], dict[str, str]]:
    conf = "\n".join([f"# {fwd.purpose}: forwards every query to {fwd.target}", f"listen-address={fwd.address}",
                      "bind-interfaces", "port=53", "no-resolv", "no-hosts", "user=root", "cache-size=0",
                      f"pid-file={workdir}/dnsmasq.pid", f"server={fwd.target}@{fwd.address}", ""])
    return [binary("dnsmasq"), "-k", "-C", str(workdir / "dnsmasq.conf")], {"dnsmasq.conf": conf}


def start(ns: str, cmd: list[str], files: dict[str, str], workdir: Path, log: Path) -> subprocess.Popen:
    workdir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (workdir / name).write_text(text)
    with open(log, "ab") as out:
        return subprocess.Popen(["ip", "netns", "exec", ns, *cmd], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def wait_answering(ns: str, address: str, proc: subprocess.Popen, what: str, timeout: float = 20.0) -> None:
    """Poll until a DNS server at ``address`` in ``ns`` answers a query (any answer), or fail."""
    import dns.message
    import dns.query

    deadline = time.monotonic() + timeout
    query = dns.message.make_query("localhost.", "A")
    while True:
        if proc.poll() is not None:
            raise EngineError(f"{what} exited with status {proc.returncode} before answering; see its log.")
        try:
            with inside(ns):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            with sock:
                sock.settimeout(0.5)  # never block on a datagram that select() announced and the kernel dropped
                dns.query.udp(query, address, timeout=0.2, sock=sock)
            return
        except (OSError, dns.exception.Timeout):
            if time.monotonic() > deadline:
                raise EngineError(f"{what} did not answer on {address}:53 within {timeout:.0f} s; see its log.") from None
