"""Namespaces, links and routes through netlink (pyroute2), and the structural safety check.

Every veth pair is created inside a lab namespace with its peer placed straight into another
lab namespace (``net_ns_fd``), so no lab interface ever exists in the root namespace, not
even for a moment.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from pathlib import Path

from arclink.lab.plan import LabPlan

NETNS_DIR = Path("/run/netns")
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


class LabNetError(Exception):
    """Building or checking the lab network failed; ``str()`` says what."""


def _netlink():
    try:
        from pyroute2 import NetNS, netns
    except ImportError:
        raise LabNetError("the lab needs pyroute2: pip install 'arclink[lab]'.") from None
    return NetNS, netns


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@contextlib.contextmanager
def inside(ns: str):
    """Run the block with this thread in namespace ``ns`` (setns is per thread); sockets made here stay there."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(NETNS_DIR / ns, os.O_RDONLY)
    try:
        _setns(target)
        try:
            yield
        finally:
            _setns(own)
    finally:
        os.close(target)
        os.close(own)


def existing(prefix: str) -> list[str]:
    return sorted(p.name for p in NETNS_DIR.glob(prefix + "*")) if NETNS_DIR.is_dir() else []


def build(plan: LabPlan) -> None:
    NetNS, netns = _netlink()
    for ns in plan.nodes:
        netns.create(ns)
    handles = {ns: NetNS(ns) for ns in plan.nodes}
    try:
        for l in plan.links:
            handles[l.a].link("add", ifname=l.a_if, kind="veth", peer={"ifname": l.b_if, "net_ns_fd": l.b})
        for ns, node in plan.nodes.items():
            ipr = handles[ns]
            lo = ipr.link_lookup(ifname="lo")[0]
            ipr.link("set", index=lo, state="up")
            for addr in node.addresses:
                ipr.addr("add", index=lo, address=addr, prefixlen=32)
            for link in ipr.get_links():
                if link.get("ifname") != "lo":
                    ipr.link("set", index=link["index"], state="up")
            for prefix, dev in node.routes:
                ipr.route("add", dst=prefix, oif=ipr.link_lookup(ifname=dev)[0])
            with inside(ns):
                # forward between links, answer ARP for what lies behind a link, and accept
                # replies arriving on another link than the one the request left by
                for key, value in (("net/ipv4/ip_forward", "1"), ("net/ipv4/conf/all/proxy_arp", "1"),
                                   ("net/ipv4/conf/default/proxy_arp", "1"), ("net/ipv4/conf/all/rp_filter", "0"),
                                   ("net/ipv4/conf/default/rp_filter", "0")):
                    Path("/proc/sys", key).write_text(value)
                for link in ipr.get_links():
                    name = link.get("ifname")
                    if name != "lo":
                        Path(f"/proc/sys/net/ipv4/conf/{name}/proxy_arp").write_text("1")
                        Path(f"/proc/sys/net/ipv4/conf/{name}/rp_filter").write_text("0")
    finally:
        for h in handles.values():
            h.close()


def remove(names: list[str]) -> list[str]:
    """Delete these namespaces (their veths go with them); returns the names removed."""
    _, netns = _netlink()
    gone = []
    for ns in names:
        if (NETNS_DIR / ns).exists():
            netns.remove(ns)
            gone.append(ns)
    return gone


def pids_in(ns: str) -> list[int]:
    """Processes whose network namespace is ``ns`` (the same inode), like ``ip netns pids``."""
    try:
        st = os.stat(NETNS_DIR / ns)
    except FileNotFoundError:
        return []
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            s = os.stat(entry / "ns" / "net")
        except OSError:
            continue
        if (s.st_dev, s.st_ino) == (st.st_dev, st.st_ino):
            out.append(int(entry.name))
    return out


def check(plan: LabPlan) -> list[str]:
    """Problems that would make the lab unsafe; empty when it is closed.

    Each namespace holds only lo and the plan's veths; every veth's peer is the plan's peer
    in another lab namespace (checked both ways by interface index); every route leaves by
    lo or one of the plan's veths.
    """
    NetNS, _ = _netlink()
    problems: list[str] = []
    expected: dict[tuple[str, str], tuple[str, str]] = {}
    for l in plan.links:
        expected[(l.a, l.a_if)] = (l.b, l.b_if)
        expected[(l.b, l.b_if)] = (l.a, l.a_if)
    seen: dict[tuple[str, str], tuple[int, int]] = {}  # (ns, ifname) -> (own index, peer index)
    for ns in plan.nodes:
        if not (NETNS_DIR / ns).exists():
            problems.append(f"namespace {ns} is missing")
            continue
        with NetNS(ns) as ipr:
            names = {}
            for link in ipr.get_links():
                name = link.get("ifname")
                names[link["index"]] = name
                if name == "lo":
                    continue
                info = link.get_attr("IFLA_LINKINFO")
                kind = info.get_attr("IFLA_INFO_KIND") if info else None
                if kind != "veth" or (ns, name) not in expected:
                    problems.append(f"{ns}: interface {name} ({kind}) is not one of the lab's links")
                    continue
                if link.get_attr("IFLA_LINK_NETNSID") is None:
                    problems.append(f"{ns}: {name} has its peer in the same namespace")
                seen[(ns, name)] = (link["index"], link.get_attr("IFLA_LINK"))
            for r in ipr.get_routes(family=2) + ipr.get_routes(family=10):
                dev = names.get(r.get_attr("RTA_OIF"))
                if dev != "lo" and (ns, dev) not in expected:
                    problems.append(f"{ns}: route {r.get_attr('RTA_DST')}/{r['dst_len']} leaves by {dev}, "
                                    "which is not a lab link")
    for key, (own, peer) in seen.items():
        other = seen.get(expected[key])
        if other is None or other[0] != peer or other[1] != own:
            problems.append(f"{key[0]}: {key[1]} is not paired with {expected[key][1]} in {expected[key][0]}")
    return problems
