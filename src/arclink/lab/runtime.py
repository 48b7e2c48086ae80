"""``up``, ``down`` and ``status`` of a lab: build, check, serve, and remove everything again.

A lab's record lives in ``/run/arclink-lab/NAME/lab.json`` (namespaces, PIDs, files), written
before anything is created and updated as things start, so ``down`` (or the next ``up`` of
the same name) removes all of it even after ``kill -9``: every process in a lab namespace,
the namespaces (their veths and nftables rules go with them), ``/etc/netns/NS`` and the
lab's directory.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from arclink.lab import engines, firewall, netns, vnetfw
from arclink.lab.plan import LabPlan, build_plan
from arclink.lab.registry import start_registry

RUN_DIR = Path("/run/arclink-lab")
ARM_NAME = "management.azure.com"
ETC_NETNS = Path("/etc/netns")


class LabError(Exception):
    """One sentence and the fix; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def lab_dir(name: str) -> Path:
    return RUN_DIR / name


def record_path(name: str) -> Path:
    return lab_dir(name) / "lab.json"


def read_record(name: str) -> dict | None:
    try:
        return json.loads(record_path(name).read_text())
    except (OSError, ValueError):
        return None


def _write_record(name: str, doc: dict) -> None:
    tmp = lab_dir(name) / "lab.json.tmp"
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, record_path(name))


def preflight() -> None:
    if os.name != "posix" or not Path("/proc/self/ns/net").exists():
        raise LabError("the lab needs Linux network namespaces; run it on Linux.", 2)
    if os.geteuid() != 0:
        raise LabError("the lab needs root (it creates network namespaces); run it with sudo.", 2)
    try:
        netns._netlink()
    except netns.LabNetError as exc:
        raise LabError(str(exc), 2) from None


def check_name(name: str) -> None:
    if not name or len(name) > 12 or not all(c.isalnum() or c == "-" for c in name) or name.startswith("-"):
        raise LabError(f"lab name '{name}' must be 1-12 letters, digits or '-'; pick another --name.", 2)


@dataclass
class Lab:
    """A running lab: its plan, the emulator services and the processes started for it."""

    plan: LabPlan
    index: object
    services: object = None
    handles: list = field(default_factory=list)
    procs: list = field(default_factory=list)  # (what, Popen)
    record: dict = field(default_factory=dict)
    claim: int | None = None  # the descriptor holding the name's lock (``_claim``) while the lab runs

    @property
    def endpoints(self) -> dict:
        return self.services.endpoints if self.services is not None else {}


def down(name: str) -> dict:
    """Remove everything the lab ``name`` made; safe to run twice and after a crash."""
    rec = read_record(name) or {}
    prefix = f"arclink-{name}-"
    namespaces = sorted(set(rec.get("namespaces", [])) | set(netns.existing(prefix)))
    owner = rec.get("pid")
    killed = []
    if owner and owner != os.getpid() and _alive(owner):
        _kill(owner)
        killed.append(owner)
    for pid in rec.get("pids", []):
        if _alive(pid):
            _kill(pid)
            killed.append(pid)
    for ns in namespaces:
        for pid in netns.pids_in(ns):
            if pid != os.getpid():
                _kill(pid)
                killed.append(pid)
    removed = netns.remove(namespaces)
    for ns in namespaces:
        shutil.rmtree(ETC_NETNS / ns, ignore_errors=True)
    shutil.rmtree(lab_dir(name), ignore_errors=True)
    return {"namespaces": removed, "processes": sorted(set(killed))}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def _kill(pid: int) -> None:
    """SIGTERM, then SIGKILL once it has not gone within a few seconds (polled)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return
    deadline = time.monotonic() + 3
    while _alive(pid) and not _reaped(pid):
        if time.monotonic() > deadline:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            break
        time.sleep(0.02)


def _reaped(pid: int) -> bool:
    """Our own child that has exited is a zombie until reaped: reap it."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == pid
    except ChildProcessError:
        try:
            return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
        except OSError:
            return True


def up(topology: str, name: str, *, default_engine: str = "bind", engines_by_site: dict | None = None,
       load_index=None, after_build=None) -> Lab:
    """Build and start the lab; the caller keeps it running and calls ``stop_lab``.

    ``after_build(plan)`` runs between building the network and the safety check: the tests'
    seam for a fault the check must catch (a stray interface, a route out).
    """
    preflight()
    check_name(name)
    ix = load_index(topology)
    try:
        plan = build_plan(ix, name, default_engine, engines_by_site)
    except Exception as exc:  # PlanError: one sentence
        raise LabError(str(exc), 2) from None
    claim = _claim(name)
    try:
        if read_record(name) is not None or netns.existing(f"arclink-{name}-"):
            down(name)  # a stale lab of the same name (its owner crashed, releasing the name): clean first
        lab_dir(name).mkdir(parents=True, exist_ok=True)
    except BaseException:
        os.close(claim)
        raise
    lab = Lab(plan, ix, claim=claim)
    lab.record = {"name": name, "pid": os.getpid(), "topology": str(Path(topology).resolve()),
                  "namespaces": list(plan.nodes), "pids": [], "ready": False,
                  "sites": {s.name: plan.site_ns(s.name) for s in ix.sites.values()}}
    _write_record(name, lab.record)
    try:
        netns.build(plan)
        if after_build is not None:
            after_build(plan)
        problems = netns.check(plan)
        if problems:
            raise LabError("the lab is not closed off from the machine, so it stops here: " + "; ".join(problems) + ".")
        for node in plan.nodes.values():
            if node.kind == "site":
                edge = next(l.a_if for l in plan.links if l.a == node.ns and l.b == plan.internet.ns)
                firewall.load(node.ns, firewall.ruleset(plan, ix.site(node.name), edge))
            elif node.kind == "vnet":
                rules = vnetfw.ruleset(ix, ix.vnet(node.name), plan.tag_addresses())
                if rules:
                    firewall.load(node.ns, rules)
        _start_services(lab, topology)
        _start_dns(lab)
        lab.record["ready"] = True
        lab.record["endpoints"] = {k: v for k, v in lab.endpoints.items() if k != "token"}
        # ARM as a client in a site reaches it: by name, through the site's DNS and firewall
        lab.record["arm"] = {"url": f"https://{ARM_NAME}", "names": list(plan.arm_names())}
        lab.record["state_dir"] = str(lab_dir(name) / "emulator")
        _write_record(name, lab.record)
    except BaseException:
        stop_lab(lab)
        raise
    return lab


def _track(lab: Lab, what: str, proc) -> None:
    lab.procs.append((what, proc))
    lab.record["pids"].append(proc.pid)
    _write_record(lab.plan.name, lab.record)


def _start_dns(lab: Lab) -> None:
    base = lab_dir(lab.plan.name)
    started = []
    for i, fwd in enumerate(lab.plan.forwarders):
        work = base / f"fwd{i}"
        cmd, files = engines.forwarder_config(fwd, work)
        proc = engines.start(fwd.ns, cmd, files, work, base / f"fwd{i}.log")
        _track(lab, f"{fwd.purpose} {fwd.address}", proc)
        started.append((fwd.ns, fwd.address, proc, f"dnsmasq ({fwd.purpose}, {fwd.address})"))
    for sd in lab.plan.site_dns:
        work = base / f"site-{sd.site}"
        cmd, files = engines.site_config(lab.index, sd, work)
        proc = engines.start(sd.ns, cmd, files, work, base / f"site-{sd.site}.log")
        _track(lab, f"{sd.engine} for {sd.site}", proc)
        started.append((sd.ns, sd.address, proc, f"{sd.engine} of site '{sd.site}'"))
        etc = ETC_NETNS / sd.ns
        etc.mkdir(parents=True, exist_ok=True)
        (etc / "resolv.conf").write_text(f"# arclink lab '{lab.plan.name}': site '{sd.site}' DNS server\n"
                                         f"nameserver {sd.address}\noptions timeout:2 attempts:1\n")
    for ns, address, proc, what in started:
        try:
            engines.wait_answering(ns, address, proc, what)
        except engines.EngineError as exc:
            raise LabError(str(exc)) from None


def _bound(ns: str, address: str, port: int, kind: int) -> socket.socket:
    with netns.inside(ns):
        s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port))
    if kind == socket.SOCK_STREAM:
        s.listen(1024)
    return s


def _start_services(lab: Lab, topology: str) -> None:
    from arclink.dns.server import start_dns_server
    from arclink.gateway.server import start_gateway
    from arclink.model.live import LiveState
    from arclink.stack import StackError, start_services

    state = lab_dir(lab.plan.name) / "emulator"
    # ARM and Entra ID on their public addresses in the internet namespace: the same uvicorn
    # server also serves these sockets, with a certificate the emulator's CA signs for their names
    arm_socks = tuple(_bound(ln.ns, ln.address, ln.port, socket.SOCK_STREAM)
                      for ln in lab.plan.listeners if ln.service == "arm")
    names = lab.plan.arm_names()
    try:
        lab.services = start_services(state, in_memory=True, topology=topology, arm_sockets=arm_socks, arm_names=names)
        live = lab.services.live
    except StackError as exc:
        # ARM refuses to create some broken topologies (as Azure would); the lab still shows
        # what their network does, served from the model itself, with an empty ARM beside it.
        lab.record["note"] = f"served from the model, not through ARM: {exc}"
        lab.services = start_services(state, in_memory=True, arm_sockets=arm_socks, arm_names=names)
        live = LiveState(lab.index)
        # the loopback DNS and gateway serve the same model, so that 'arclink doctor --emulator
        # endpoints.json --topology FILE --site SITE' checks the lab's network as the lab runs it
        dns = start_dns_server(live, "127.0.0.1", 0)
        gw = start_gateway(live, str(state), "127.0.0.1", 0)
        lab.handles += [dns, gw]
        lab.services.endpoints.update(dns={"host": dns.host, "port": dns.port},
                                      gateway={"host": gw.host, "port": gw.port})
        _rewrite_endpoints(state / "endpoints.json", lab.services.endpoints)
    registry = tuple(_bound(ln.ns, ln.address, ln.port, socket.SOCK_STREAM)
                     for ln in lab.plan.listeners if ln.service == "registry")
    if registry:
        lab.handles.append(start_registry(registry, lab.plan.registry_names(), state))
    for ln in lab.plan.listeners:
        if ln.service == "dns":
            socks = (_bound(ln.ns, ln.address, ln.port, socket.SOCK_DGRAM),
                     _bound(ln.ns, ln.address, ln.port, socket.SOCK_STREAM))
            lab.handles.append(start_dns_server(live, sockets=socks))
        elif ln.service == "gateway":
            sock = _bound(ln.ns, ln.address, ln.port, socket.SOCK_STREAM)
            lab.handles.append(start_gateway(live, str(state), sock=sock, real_source=True))


def _rewrite_endpoints(path: Path, doc: dict) -> None:
    tmp = path.with_suffix(".json.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the token
    with os.fdopen(fd, "w") as out:
        out.write(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)


def _claim(name: str) -> int:
    """Hold the lock of the lab name ``name`` (released when the holder exits, however it exits):
    a second ``up`` of a name in use is refused, where it used to take the running lab for a stale
    one and tear it down under its owner."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    fd = os.open(RUN_DIR / f".{name}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        owner = (read_record(name) or {}).get("pid")
        who = f" (process {owner})" if owner else ""
        raise LabError(f"lab '{name}' is running{who}; stop it with 'sudo arclink lab down --name {name}', "
                       "or pick another --name.", 2) from None
    return fd


def stop_lab(lab: Lab) -> dict:
    try:
        return _stop(lab)
    finally:
        if lab.claim is not None:
            os.close(lab.claim)
            lab.claim = None


def _stop(lab: Lab) -> dict:
    for h in lab.handles:
        try:
            h.close()
        except Exception:  # the rest must still go
            pass
    if lab.services is not None:
        lab.services.stop()
    for _, proc in lab.procs:
        if proc.poll() is None:
            _kill(proc.pid)
        try:
            proc.wait(timeout=5)
        except Exception:
            pass
    return down(lab.plan.name)


def status() -> list[dict]:
    out = []
    if RUN_DIR.is_dir():
        for d in sorted(RUN_DIR.iterdir()):
            rec = read_record(d.name)
            if rec is None:
                continue
            alive = _alive(rec.get("pid", 0))
            out.append({"name": rec["name"], "topology": rec.get("topology"), "pid": rec.get("pid"),
                        "state": "up" if alive and rec.get("ready") else ("starting" if alive else "stale"),
                        "sites": rec.get("sites", {}), "namespaces": rec.get("namespaces", [])})
    return out


def site_namespace(name: str, site: str) -> str:
    rec = read_record(name)
    if rec is None:
        raise LabError(f"no lab named '{name}' is up; start it with 'arclink lab up TOPOLOGY --name {name}'.", 2)
    for s, ns in rec.get("sites", {}).items():
        if s.lower() == site.lower():
            return ns
    raise LabError(f"site '{site}' is not in lab '{name}' (sites: {', '.join(rec.get('sites', {})) or 'none'}).", 2)
