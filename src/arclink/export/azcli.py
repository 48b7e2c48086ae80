"""The plan as two idempotent Azure CLI scripts (bash, ``set -euo pipefail``).

``deploy.sh`` is the Azure side and uses core ``az`` commands only (no extension), so it runs
wherever az is logged in, the emulator included. ``onboard.sh`` is the per-site cluster
onboarding: ``az connectedk8s`` and ``az k8s-extension`` are extensions and need a live
cluster (a kubeconfig context), so they live apart; ``./onboard.sh SITE`` onboards one site.

Every step is ``az ... show || az ... create``, so each script can be re-run after a failure
and a second run changes nothing. The Azure Arc Private Link Scope has no first-class ``az``
command in the core CLI (the research notes name none), so it goes through ``az resource``
with the scope's api-version. Clusters are onboarded with the seed's own command,
``az connectedk8s connect ... --enable-private-link true --private-link-scope-resource-id``.
"""

from __future__ import annotations

import json
import shlex

from arclink.export.plan import Plan, Step, monitor_scope
from arclink.model import catalogue as cat
from arclink.model.arm_codec import TAG_SITE
from arclink.model.resolved import parse_arm_id

MAIN_FILE = "deploy.sh"
ONBOARDING_FILE = "onboard.sh"
# Plan steps that need a live cluster and the connectedk8s / k8s-extension extensions.
ONBOARDING_KINDS = ("connectedCluster", "extension")


def q(value) -> str:
    return shlex.quote(str(value))


def _sub(step: Step) -> str:
    return f"--subscription {q(step.subscription)}"


def _idempotent(show: str, create: list[str]) -> list[str]:
    if len(create) == 1:
        return [f"{show} --output none 2>/dev/null || \\", f"  {create[0]}"]
    return [f"{show} --output none 2>/dev/null || {{"] + [f"  {c}" for c in create] + ["}"]


def _absent(name: str, listing: str) -> str:
    """A test that ``name`` is not a line of the shell variable ``listing`` (names from one ``show``)."""
    return f"! grep -qixF {q(name)} <<<\"${listing}\""


def _provider(s: Step, listed: set[str] | None = None) -> list[str]:
    # One list per subscription (the first of its steps) tells which namespaces are registered:
    # a re-run registers none.
    out = []
    if listed is None or s.subscription not in listed:
        out.append(f"registered=\"$(az provider list {_sub(s)} --query \"[?registrationState=='Registered'].namespace\" "
                   "--output tsv)\"")
        if listed is not None:
            listed.add(s.subscription)
    return out + [
            f"if {_absent(s.name, 'registered')}; then",
            f"  az provider register --namespace {q(s.name)} {_sub(s)} --wait",
            "fi"]


def _rg(s: Step) -> list[str]:
    return _idempotent(f"az group show --name {q(s.name)} {_sub(s)}",
                       [f"az group create --name {q(s.name)} --location {q(s.location)} {_sub(s)} --output none"])


def _shown_or_created(var: str, show: str, create: str) -> list[str]:
    """``var`` holds the names ``show`` lists; when the parent is missing it is created and ``var`` is empty."""
    return [f"{var}=\"$({show} --output tsv 2>/dev/null)\" || {{", f"  {create}", f"  {var}=''", "}"]


def _nsg(s: Step) -> list[str]:
    g = f"--resource-group {q(s.resource_group)}"
    out = _shown_or_created(
        "rules", f"az network nsg show {g} --name {q(s.name)} {_sub(s)} --query 'securityRules[].name'",
        f"az network nsg create {g} --name {q(s.name)} --location {q(s.location)} {_sub(s)} --output none")
    for rule in s.body["properties"]["securityRules"]:
        p = rule["properties"]
        out += [f"if {_absent(rule['name'], 'rules')}; then",
                f"  az network nsg rule create {g} --nsg-name {q(s.name)} --name {q(rule['name'])} --priority {p['priority']} "
                f"--direction {p['direction']} --access {p['access']} --protocol {q(p['protocol'])} "
                f"--source-address-prefixes {_each(p, 'sourceAddressPrefix')} --source-port-ranges {_each(p, 'sourcePortRange')} "
                f"--destination-address-prefixes {_each(p, 'destinationAddressPrefix')} "
                f"--destination-port-ranges {_each(p, 'destinationPortRange')} {_sub(s)} --output none",
                "fi"]
    return out


def _each(p: dict, key: str) -> str:
    """A rule field's values for az (which takes several after one flag): the plural where given."""
    plural = key[:-5] + "Ranges" if key.endswith("Range") else key + "es"
    return " ".join(q(v) for v in p[plural]) if plural in p else q(p[key])


def _vnet(s: Step) -> list[str]:
    g = f"--resource-group {q(s.resource_group)}"
    p = s.body["properties"]
    prefixes = " ".join(q(a) for a in p["addressSpace"]["addressPrefixes"])
    dns = ""
    if p.get("dhcpOptions"):
        dns = " --dns-servers " + " ".join(q(a) for a in p["dhcpOptions"]["dnsServers"])
    out = _shown_or_created(
        "subnets", f"az network vnet show {g} --name {q(s.name)} {_sub(s)} --query 'subnets[].name'",
        f"az network vnet create {g} --name {q(s.name)} --location {q(s.location)} "
        f"--address-prefixes {prefixes}{dns} {_sub(s)} --output none")
    for sn in p["subnets"]:
        sp = sn["properties"]
        nsg = f" --network-security-group {q(sp['networkSecurityGroup']['id'])}" if "networkSecurityGroup" in sp else ""
        out += [f"if {_absent(sn['name'], 'subnets')}; then",
                f"  az network vnet subnet create {g} --vnet-name {q(s.name)} --name {q(sn['name'])} "
                f"--address-prefixes {q(sp['addressPrefix'])}{nsg} "
                f"--private-endpoint-network-policies {sp['privateEndpointNetworkPolicies']} {_sub(s)} --output none",
                "fi"]
    return out


def _peering(s: Step) -> list[str]:
    vnet = s.id.split("/virtualNetworks/")[1].split("/")[0]
    g = f"--resource-group {q(s.resource_group)}"
    p = s.body["properties"]
    remote = p["remoteVirtualNetwork"]["id"]
    transit = (" --allow-gateway-transit" if p.get("allowGatewayTransit") else "") + \
        (" --use-remote-gateways" if p.get("useRemoteGateways") else "")
    return _idempotent(f"az network vnet peering show {g} --vnet-name {q(vnet)} --name {q(s.name)} {_sub(s)}",
                       [f"az network vnet peering create {g} --vnet-name {q(vnet)} --name {q(s.name)} "
                        f"--remote-vnet {q(remote)} --allow-vnet-access --allow-forwarded-traffic{transit} "
                        f"{_sub(s)} --output none"])


def _pls(s: Step) -> list[str]:
    props = json.dumps(s.body["properties"], separators=(",", ":"))
    return _idempotent(f"az resource show --ids {q(s.id)} --api-version {s.api_version}",
                       [f"az resource create --id {q(s.id)} --api-version {s.api_version} --location {q(s.location)} "
                        f"--properties {q(props)} --output none"])


def _zone(s: Step) -> list[str]:
    g = f"--resource-group {q(s.resource_group)}"
    return _idempotent(f"az network private-dns zone show {g} --name {q(s.name)} {_sub(s)}",
                       [f"az network private-dns zone create {g} --name {q(s.name)} {_sub(s)} --output none"])


def _zone_of(s: Step) -> str:
    return s.id.split("/privateDnsZones/")[1].split("/")[0]


def _link(s: Step) -> list[str]:
    g = f"--resource-group {q(s.resource_group)}"
    p = s.body["properties"]
    policy = f" --resolution-policy {p['resolutionPolicy']}" if "resolutionPolicy" in p else ""
    return _idempotent(
        f"az network private-dns link vnet show {g} --zone-name {q(_zone_of(s))} --name {q(s.name)} {_sub(s)}",
        [f"az network private-dns link vnet create {g} --zone-name {q(_zone_of(s))} --name {q(s.name)} "
         f"--virtual-network {q(p['virtualNetwork']['id'])} "
         f"--registration-enabled {str(p['registrationEnabled']).lower()}{policy} {_sub(s)} --output none"])


def _record(s: Step) -> list[str]:
    g = f"--resource-group {q(s.resource_group)}"
    z = q(_zone_of(s))
    p = s.body["properties"]
    kind = s.type.rsplit("/", 1)[-1].lower()
    show = f"az network private-dns record-set {kind} show {g} --zone-name {z} --name {q(s.name)} {_sub(s)}"
    if kind == "cname":
        return _idempotent(show, [f"az network private-dns record-set cname set-record {g} --zone-name {z} "
                                  f"--record-set-name {q(s.name)} --cname {q(p['cnameRecord']['cname'])} {_sub(s)} --output none"])
    flag, field, key = ("--ipv4-address", "aRecords", "ipv4Address") if kind == "a" else \
        ("--ipv6-address", "aaaaRecords", "ipv6Address")
    adds = [f"az network private-dns record-set {kind} add-record {g} --zone-name {z} --record-set-name {q(s.name)} "
            f"{flag} {q(r[key])} {_sub(s)} --output none" for r in p[field]]
    return _idempotent(show, adds)


def _pe(s: Step) -> list[str]:
    g = f"--resource-group {q(s.resource_group)}"
    p = s.body["properties"]
    manual = "manualPrivateLinkServiceConnections" in p
    conn = (p.get("manualPrivateLinkServiceConnections") or p["privateLinkServiceConnections"])[0]
    groups = " ".join(q(x) for x in conn["properties"]["groupIds"])
    static = "".join(f" --ip-config name={q(c['name'])} group-id={q(c['properties']['groupId'])} "
                     f"member-name={q(c['properties']['memberName'])} "
                     f"private-ip-address={q(c['properties']['privateIPAddress'])}" for c in p.get("ipConfigurations", []))
    return _monitor_scope(s) + _idempotent(
        f"az network private-endpoint show {g} --name {q(s.name)} {_sub(s)}",
        [f"az network private-endpoint create {g} --name {q(s.name)} --location {q(s.location)} "
         f"--subnet {q(p['subnet']['id'])} --private-connection-resource-id {q(conn['properties']['privateLinkServiceId'])} "
         f"--group-id {groups} --connection-name {q(conn['name'])}{static}"
         f"{' --manual-request true' if manual else ''} {_sub(s)} --output none"])


def _monitor_scope(s: Step) -> list[str]:
    """The Azure Monitor Private Link Scope the endpoint connects to, created first (Azure refuses an
    endpoint to a resource that does not exist; the topology names the scope only here)."""
    parts = parse_arm_id(monitor_scope(s))
    if parts is None:
        return []
    args = f"--resource-group {q(parts['rg'])} --name {q(parts['name'])} --subscription {q(parts['sub'])}"
    return _idempotent(f"az monitor private-link-scope show {args}",
                       [f"az monitor private-link-scope create {args} --only-show-errors --output none"])


def _zone_group(s: Step) -> list[str]:
    g = f"--resource-group {q(s.resource_group)}"
    pe = s.id.split("/privateEndpoints/")[1].split("/")[0]
    configs = s.body["properties"]["privateDnsZoneConfigs"]
    cmds = []
    for i, c in enumerate(configs):
        verb = "create" if i == 0 else "add"
        cmds.append(f"az network private-endpoint dns-zone-group {verb} {g} --endpoint-name {q(pe)} --name {q(s.name)} "
                    f"--private-dns-zone {q(c['properties']['privateDnsZoneId'])} --zone-name {q(c['name'])} "
                    f"{_sub(s)} --output none")
    return _idempotent(f"az network private-endpoint dns-zone-group show {g} --endpoint-name {q(pe)} --name {q(s.name)} "
                       f"{_sub(s)}", cmds)


def _approval(s: Step) -> list[str]:
    pe_id = s.source.id
    query = f"value[?ends_with(properties.privateEndpoint.id, '/privateEndpoints/{s.name}')].id | [0]"
    body = json.dumps(s.body, separators=(",", ":"))
    # az rest puts the cloud's ARM endpoint before a URL that starts with a resource id.
    status = s.body["properties"]["privateLinkServiceConnectionState"]["status"]
    return [f"# the connection of {pe_id}",
            f"conn=\"$(az rest --method get --url {q(s.id + '?api-version=' + s.api_version)} "
            f"--query {q(query)} --output tsv)\"",
            f"if [ \"$(az rest --method get --url \"${{conn}}?api-version={s.api_version}\" "
            f"--query properties.privateLinkServiceConnectionState.status --output tsv)\" != {q(status)} ]; then",
            f"  az rest --method put --url \"${{conn}}?api-version={s.api_version}\" --body {q(body)} --output none",
            "fi"]


def _cluster(s: Step) -> list[str]:
    g = f"--resource-group {q(s.resource_group)}"
    p = s.body["properties"]
    state = p["privateLinkState"]
    flags = f"--enable-private-link {'true' if state == 'Enabled' else 'false'}"
    if "privateLinkScopeResourceId" in p:
        flags += f" --private-link-scope-resource-id {q(p['privateLinkScopeResourceId'])}"
    # Re-running connect is how the private-link state of an onboarded cluster changes
    # (connectedk8s update has no private-link flags), so compare the state, not existence.
    if s.body.get("tags"):
        flags += " --tags " + " ".join(q(f"{k}={v}") for k, v in s.body["tags"].items())
    out = [f"if [ \"$(az connectedk8s show {g} --name {q(s.name)} {_sub(s)} --query privateLinkState --output tsv "
           f"2>/dev/null || true)\" != {q(state)} ]; then",
           f"  az connectedk8s connect {g} --name {q(s.name)} --location {q(s.location)} {flags} "
           f"--kube-context {q(s.name)} --yes {_sub(s)}",
           "fi"]
    enable, disable = cluster_features(s)
    # Both commands converge (a feature already in that state stays so): safe to re-run.
    if enable:
        out.append(f"az connectedk8s enable-features {g} --name {q(s.name)} --features {' '.join(q(f) for f in enable)} "
                   f"--kube-context {q(s.name)} {_sub(s)}")
    if disable:
        out.append(f"az connectedk8s disable-features {g} --name {q(s.name)} --features "
                   f"{' '.join(q(f) for f in disable)} --kube-context {q(s.name)} --yes {_sub(s)}")
    return out


def cluster_features(s: Step) -> tuple[list[str], list[str]]:
    """The features to enable (the topology's) and to disable: on a cluster without private link,
    'connect' turns cluster-connect and custom-locations on by default, so those the topology does
    not list are turned off again; with private link, connect leaves them off."""
    p = s.body["properties"]
    enable = [c["feature"] for c in p.get("arcAgentryConfigurations", [])]
    disable = [] if p["privateLinkState"] == "Enabled" else [f for f in cat.UNSUPPORTED_FEATURES if f not in enable]
    return enable, disable


def _extension(s: Step) -> list[str]:
    g = f"--resource-group {q(s.resource_group)}"
    cluster = s.id.split("/connectedClusters/")[1].split("/")[0]
    common = f"{g} --cluster-name {q(cluster)} --cluster-type connectedClusters --name {q(s.name)} {_sub(s)}"
    return _idempotent(f"az k8s-extension show {common}",
                       [f"az k8s-extension create {common} --extension-type {q(s.body['properties']['extensionType'])} "
                        "--output none"])


_RENDER = {
    "provider": _provider, "resourceGroup": _rg, "networkSecurityGroup": _nsg, "virtualNetwork": _vnet,
    "virtualNetworkPeering": _peering, "privateLinkScope": _pls, "privateDnsZone": _zone, "virtualNetworkLink": _link,
    "recordSet": _record, "privateEndpoint": _pe, "connectionApproval": _approval, "privateDnsZoneGroup": _zone_group, "connectedCluster": _cluster,
    "extension": _extension,
}


def _numbered(steps: list[Step], indent: str = "") -> list[str]:
    lines: list[str] = []
    listed: set[str] = set()  # subscriptions whose registered providers the script has listed
    for n, s in enumerate(steps, 1):
        lines.append(f"{indent}echo {q(f'[{n}/{len(steps)}] {s.title}')}")
        body = _provider(s, listed) if s.kind == "provider" else _RENDER[s.kind](s)
        lines += [indent + line for line in body]
        lines.append("")
    return lines


def render_azure(plan: Plan) -> str:
    """The Azure side: providers, groups, networks, the scope, DNS zones, endpoints, approvals."""
    steps = [s for s in plan.azure_steps if s.kind not in ONBOARDING_KINDS]
    lines = [
        "#!/usr/bin/env bash",
        "# Azure Arc Private Link for Arc-enabled Kubernetes: the Azure side of the plan, step by step.",
        "# Idempotent: every step checks before it creates, so the script can be re-run.",
        "# Needs: az >= 2.30.0, logged in (core commands only, no extension).",
        f"# Then onboard the clusters of each site with {ONBOARDING_FILE}.",
        "set -euo pipefail",
        "",
    ]
    lines += _numbered(steps)
    onprem = [s for s in plan.steps if not s.azure]
    if onprem:
        lines.append("# On-premises and DNS forwarding (not created by this script):")
        lines += [f"#   {s.title}" for s in onprem]
        lines.append("# Configure on-premises DNS with 'arclink export bind|unbound|dnsmasq|coredns|windows|hosts'.")
    lines.append("echo 'done'")
    return "\n".join(lines) + "\n"


def _site_of(s: Step) -> str:
    return (s.body.get("tags") or {}).get(TAG_SITE, "")


def render_onboarding(plan: Plan) -> str | None:
    """Per-site cluster onboarding (``az connectedk8s``, ``az k8s-extension``); None without clusters."""
    clusters = plan.of_kind("connectedCluster")
    if not clusters:
        return None
    by_site: dict[str, list[Step]] = {}
    for c in clusters:
        by_site.setdefault(_site_of(c), []).append(c)
    extensions = plan.of_kind("extension")
    sites = " ".join(q(name) for name in by_site if name)
    lines = [
        "#!/usr/bin/env bash",
        "# Azure Arc Private Link for Arc-enabled Kubernetes: onboard each site's clusters.",
        f"# Run after {MAIN_FILE}, from a machine whose kubeconfig has a context named after each cluster.",
        "# Usage: ./onboard.sh [SITE]   (no SITE: every site; sites: " + (sites or "none") + ")",
        "# Idempotent: connect runs when the private-link state differs, extensions are shown before created.",
        "# Needs: az >= 2.30.0 with the connectedk8s (>= 1.3.0) and k8s-extension extensions.",
        "set -euo pipefail",
        'only="${1:-}"',
        "",
    ]
    for site, members in by_site.items():
        steps = [x for c in members for x in [c] + [e for e in extensions if e.depends_on[0] == c.key]]
        label = site or "(no site)"
        lines.append(f"# site {label}")
        lines.append(f"if [ -z \"$only\" ] || [ \"$only\" = {q(site)} ]; then")
        lines += _numbered(steps, "  ")
        lines.append("fi")
        lines.append("")
    lines.append("echo 'done'")
    return "\n".join(lines) + "\n"


def render(plan: Plan) -> dict[str, str]:
    files = {MAIN_FILE: render_azure(plan)}
    onboarding = render_onboarding(plan)
    if onboarding is not None:
        files[ONBOARDING_FILE] = onboarding
    return files
