"""``arclink demo``: the seed's whole story against a fresh emulator, in well under 30 seconds.

Starts the emulator (ARM, DNS, gateway) on its default SQLite store in a temporary
directory; walks the seed's planning steps in order through the ARM API and the control
API; onboards three clusters like ``az connectedk8s connect`` and runs their agents:
one connects through the private endpoint, one shares the DNS but is not associated and
is refused, one resolves public addresses and is refused because public access is
disabled. Then it fixes the second, runs the seed's three nslookup checks and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time

HUB_RG, CLUSTER_RG, LOC = "rg-arc-hub", "rg-arc-clusters", "westeurope"
SCOPE_NAME = "pls-arc-demo"


def scope_id(sub: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{HUB_RG}/providers/Microsoft.HybridCompute/privateLinkScopes/{SCOPE_NAME}"


def topology(sub: str) -> dict:
    """The plan the seed describes; clusters are onboarded afterwards, one by one, like the CLI does."""
    from arclink.agent.fleet import FORWARDER_IP, hub_document, private_link_site

    return hub_document(sub, label="retail-demo", cluster_rg=CLUSTER_RG, scope=SCOPE_NAME, endpoint="pe-arc-demo",
                        hub_rg=HUB_RG, location=LOC, sites=[
        private_link_site("store-amsterdam", "192.168.10.0/24", "192.168.10.53", FORWARDER_IP, connection="ExpressRoute"),
        # Its DNS server forwards everything to a public resolver: the Arc names resolve publicly.
        {"name": "store-utrecht", "addressSpace": ["192.168.30.0/24"],
         "connections": [{"type": "SiteToSiteVPN", "virtualNetwork": "vnet-hub"}],
         "dns": {"address": "192.168.30.53", "upstream": "8.8.8.8"}, "firewall": {"allowAll": True}},
    ])


# Seed section "Planning your Private Link setup", steps 1-6, and which plan steps belong to each.
SEED_STEPS = [
    (1, "Register the subscription to Microsoft.Kubernetes and Microsoft.KubernetesConfiguration", {"provider"}),
    (2, "Connect the on-premises network to an Azure virtual network (site-to-site VPN or ExpressRoute)",
     {"resourceGroup", "networkSecurityGroup", "virtualNetwork", "virtualNetworkPeering", "site"}),
    (3, "Deploy an Azure Arc Private Link Scope and connect it to the virtual network with a private endpoint",
     {"privateLinkScope", "privateEndpoint"}),
    (4, "Update DNS: private DNS zones, their VNet links, the endpoint's zone group, a resolver to forward to",
     {"privateDnsZone", "virtualNetworkLink", "recordSet", "privateDnsZoneGroup", "dnsForwarder"}),
]

CLUSTERS = [
    # name, site, address, private link, what the demo shows
    ("k3s-amsterdam", "store-amsterdam", "192.168.10.10", True, "correct site: connects through the private endpoint"),
    ("k3s-amsterdam-pos", "store-amsterdam", "192.168.10.11", False, "same DNS, not associated with the scope"),
    ("k3s-utrecht", "store-utrecht", "192.168.30.10", True, "DNS forwards to a public resolver"),
]


def apply_seed_steps(arm, say=lambda text, style="": None, topo: dict | None = None) -> None:
    """Create the demo's hub and sites (or ``topo``) through ARM and the control API, in the seed's order."""
    import msgspec

    from arclink.agent.arm_client import API
    from arclink.export.apply import CONTROL_COLLECTIONS, body_for
    from arclink.export.plan import build_plan
    from arclink.model import schema
    from arclink.model.index import build_index

    plan = build_plan(build_index(msgspec.convert(topo or topology(arm.subscription), schema.Topology)))
    for number, title, kinds in SEED_STEPS:
        say(f"\n[bold cyan]Step {number}[/bold cyan] {title}")
        for step in (s for s in plan.steps if s.kind in kinds):
            if step.kind == "provider":
                arm.post(f"/subscriptions/{step.subscription}/providers/{step.name}/register", API["Microsoft.Resources"])
                say(f"  POST register {step.name}")
            elif step.azure:
                arm.put(step.id, step.api_version, body_for(step, None))
                say(f"  PUT  {step.title}")
            else:
                arm.request("PUT", f"/_arclink/{CONTROL_COLLECTIONS[step.kind]}/{step.name}", None, step.body)
                say(f"  PUT  {step.title} (control API)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--keep", action="store_true", help="keep the state directory and keep serving (the portal "
                                                       "too) until Ctrl-C")
    p.add_argument("--key-type", default="ec", choices=("ec", "rsa2048", "rsa4096"),
                   help="agent keys (default ec, for speed; 'arclink connect' makes RSA-4096 like the CLI)")
    p.add_argument("--lab", action="store_true", help="also build the topology as an 'arclink lab' (Linux, root) "
                                                      "and run the page's nslookup in each site for real")


def run(args) -> int:
    from rich.console import Console

    if getattr(args, "lab", False):  # before anything starts: the lab needs root and namespaces
        from arclink.cli.main import UserError
        from arclink.lab.runtime import LabError, preflight

        try:
            preflight()
        except LabError as exc:
            raise UserError(str(exc), exc.code) from None

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)
    started = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="arclink-demo-") if args.keep else None
    ctx = tempfile.TemporaryDirectory(prefix="arclink-demo-") if not args.keep else None
    state = tmp or ctx.name
    try:
        return Demo(console, state, args.key_type, keep=args.keep, lab=getattr(args, "lab", False)).run(started)
    finally:
        if ctx is not None:
            ctx.cleanup()
        else:
            console.print(f"state kept in {state}")


class Demo:
    def __init__(self, console, state: str, key_type: str, keep: bool = False, lab: bool = False):
        self.c, self.state, self.key_type, self.keep, self.lab = console, state, key_type, keep, lab
        self.results: dict[str, dict] = {}

    def say(self, text: str, style: str = "") -> None:
        self.c.print(text, style=style, soft_wrap=True)

    def run(self, started: float) -> int:
        from arclink.agent.arm_client import ArmClient, Endpoints
        from arclink.stack import start_services

        self.say("[bold]arclink demo[/bold]: Azure Arc private link for Arc-enabled Kubernetes, end to end on loopback")
        svc = start_services(self.state, in_memory=False, host="127.0.0.1", arm_port=0, dns_port=0, gateway_port=0)
        try:
            self.ep = Endpoints.from_dict(svc.endpoints, self.state)
            self.arm = ArmClient(self.ep)
            self.say(f"emulator: ARM {self.ep.arm}  DNS 127.0.0.1:{self.ep.dns[1]}  "
                     f"gateway 127.0.0.1:{self.ep.gateway[1]}  state {self.state}", "dim")
            self.walk_seed_steps()
            self.onboard_all()
            self.fix_one()
            self.nslookups()
            if self.lab:
                self.lab_nslookups()
            self.summary()
            self.say(f"portal: {svc.endpoints['portal']}  (sign in as {svc.endpoints['user']}; the password is in "
                     f"{self.state}/endpoints.json)")
            if self.keep:
                self.serve_until_interrupted()
        finally:
            if getattr(self, "arm", None) is not None:
                self.arm.close()
            svc.stop()
        self.say(f"done in {time.monotonic() - started:.1f} s", "dim")
        return 0

    def serve_until_interrupted(self) -> None:
        import signal
        import threading

        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        self.say("serving until Ctrl-C", "dim")
        while not stop.wait(0.5):
            pass

    # the seed's steps -----------------------------------------------------------------------
    def walk_seed_steps(self) -> None:
        apply_seed_steps(self.arm, self.say)
        self.say("\n[bold cyan]Step 5[/bold cyan] Let Microsoft Entra ID, Azure Resource Manager, Microsoft Container "
                 "Registry and AzureFrontDoor.FirstParty through the on-premises firewall")
        from arclink.model import catalogue as cat

        self.say(f"  store-amsterdam allows TCP 443 out to {', '.join(cat.REQUIRED_SERVICE_TAGS)}; store-utrecht allows all")

    # clusters ----------------------------------------------------------------------------------
    def connect(self, name: str, site: str, address: str, private_link: bool):
        from arclink.agent.onboard import ConnectRequest, connect

        req = ConnectRequest(CLUSTER_RG, name, LOC, site=site, address=address, enable_private_link=private_link,
                             private_link_scope_resource_id=scope_id(self.arm.subscription) if private_link else None, yes=True,
                             key_kind=self.key_type)
        flags = f"--enable-private-link true --pls-arm-id .../privateLinkScopes/{SCOPE_NAME}" if private_link else \
            "--enable-private-link false"
        self.say(f"  $ arclink connect -g {CLUSTER_RG} -n {name} -l {LOC} {flags} --site {site} --address {address} --yes",
                 "dim")
        onboarded = connect(self.arm, req, self.ep.state_dir, warn=lambda m: self.say(f"  WARNING: {m}", "yellow"))
        if name == CLUSTERS[0][0] and name not in self.results:
            self.add_flux(onboarded.id)
        return self.run_agent(name, onboarded)

    def add_flux(self, cluster_id: str) -> None:
        """A GitOps (Flux v2) extension through ARM: its configuration reaches the agent over private link."""
        body = {"properties": {"extensionType": "microsoft.flux", "autoUpgradeMinorVersion": True,
                               "releaseTrain": "Stable", "scope": {"cluster": {"releaseNamespace": "flux-system"}},
                               "configurationSettings": {"multiTenancy.enforce": "false"}}}
        self.arm.put(f"{cluster_id}/providers/Microsoft.KubernetesConfiguration/extensions/flux", "2025-03-01", body)
        self.say("  PUT  extension flux (microsoft.flux, GitOps) on the cluster")

    def run_agent(self, name: str, onboarded):
        from arclink import pki
        from arclink.agent.resolver import DnsResolver
        from arclink.agent.runtime import Agent

        agent = Agent(name, pki.load_private_key(onboarded.key_file), onboarded.address, LOC, gateway=self.ep.gateway,
                      ca_cert=self.ep.ca_cert, resolver=DnsResolver(*self.ep.dns), heartbeat_interval=0.2)
        rep = asyncio.run(agent.run_once(heartbeats=2))
        c = rep.config if rep.config and rep.config.address else rep.discovery
        if rep.admitted:
            self.say(f"  [green]Connected[/green] through the {c.path} endpoint {c.address} ({c.fqdn}); "
                     f"{rep.heartbeats} heartbeats")
            for ext in rep.extensions:
                self.say(f"  configuration pulled through {rep.config.fqdn}: extension {ext.get('name')} "
                         f"({ext.get('extensionType')}, {ext.get('releaseTrain')}) {ext.get('configurationSettings')}")
        else:
            e = rep.last_error
            self.say(f"  [red]Refused[/red] {e.code} at {e.address} ({e.fqdn})")
            self.say(f"  \"{e.reason}\"", "italic")
        self.results[name] = {"site": onboarded.site, "report": rep, "id": onboarded.id}
        return rep

    def onboard_all(self) -> None:
        from arclink.agent.onboard import CONFIRM_PRIVATE_LINK

        self.say("\n[bold cyan]Step 6[/bold cyan] Associate the Arc-enabled Kubernetes clusters with the scope "
                 "('az connectedk8s connect --enable-private-link true')")
        self.say(f"  the CLI asks first: \"{CONFIRM_PRIVATE_LINK}\" (--yes answers it)", "dim")
        for name, site, address, pl, what in CLUSTERS:
            self.say(f"\n[bold]{name}[/bold] at {site}: {what}")
            self.connect(name, site, address, pl)

    def fix_one(self) -> None:
        name, site, address, _, _ = CLUSTERS[1]
        self.say(f"\n[bold]Fix[/bold] {name}: associate it with the scope (re-run connect with private link) and "
                 "connect again")
        self.connect(name, site, address, True)
        self.results[name]["fixed"] = True

    # troubleshooting ----------------------------------------------------------------------------
    def nslookups(self) -> None:
        from arclink.agent.resolver import DnsResolver, ResolutionFailed
        from arclink.model import catalogue as cat

        self.say("\n[bold cyan]Troubleshooting[/bold cyan] the seed's lookups, asked as each site's machines "
                 "would ask (EDNS Client Subnet)")
        r = DnsResolver(*self.ep.dns)

        async def ask(name, client):
            try:
                return await r.resolve(name, client)
            except ResolutionFailed as exc:
                return [exc.rcode]

        for site, client in (("store-amsterdam", "192.168.10.10"), ("store-utrecht", "192.168.30.10")):
            for name in cat.SEED_CHECK_NAMES:
                addrs = asyncio.run(ask(name, client))
                private = all(cat.is_private(a) for a in addrs if a[0].isdigit()) and addrs[0][0].isdigit()
                verdict = "[green]private[/green]" if private else "[red]public - check the DNS forwarding[/red]"
                self.say(f"  {site}$ nslookup {name:<46} -> {', '.join(addrs):<16} {verdict}")

    def lab_nslookups(self) -> None:
        from arclink.cli._topology import load_index
        from arclink.lab import story

        self.say("\n[bold cyan]In the lab[/bold cyan] the same topology in network namespaces, each site's real DNS "
                 "engine, real nslookup")
        story.nslookups(topology(self.arm.subscription), self.say, load_index)

    def summary(self) -> None:
        from rich.table import Table

        from arclink.agent.arm_client import API

        t = Table(title="clusters", show_lines=False)
        for col in ("cluster", "site", "agent", "endpoint", "code", "ARM connectivityStatus"):
            t.add_column(col)
        for name, res in self.results.items():
            rep = res["report"]
            try:
                arm = self.arm.get(res["id"], API["Microsoft.Kubernetes"])
                status = (arm.get("properties") or {}).get("connectivityStatus") or "-"
            except Exception:  # the table must still print
                status = "?"
            c = rep.config if rep.admitted else rep.last_error
            endpoint = f"{c.path or '-'} {c.address or ''}" if c else "-"
            t.add_row(name + (" (fixed)" if res.get("fixed") else ""), res["site"] or "-", "[green]Connected[/green]" if rep.admitted else "[red]Refused[/red]",
                      endpoint, rep.last_error.code if rep.last_error else "Admitted", status)
        self.c.print()
        self.c.print(t)
