"""Onboarding like ``az connectedk8s connect`` with private link, against the emulator's ARM API.

The checks run in the CLI's order and say what it says (reference/cli-and-agents.md
§1.2-1.4, connectedk8s 1.11.2): flag validation, the confirmation prompt, provider
registration, the location check, the private link scope's existence and region; then
the key pair and the connectedCluster PUT.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from arclink import pki
from arclink.agent.arm_client import API, ArmClient, ArmRequestError

# --- the CLI's texts, verbatim ----------------------------------------------------------------
CONFLICTING_FLAGS = ("Conflicting private link parameters received. The parameter '--private-link-scope-resource-id' "
                     "should not be set if '--enable-private-link' is passed as null or False.")
MISSING_SCOPE_ID = ("The parameter '--private-link-scope-resource-id' was not provided. It is mandatory to pass this "
                    "parameter for enabling private link on the connected cluster resource.")
CONFIRM_PRIVATE_LINK = ("The Cluster Connect and Custom Location features are not supported by Private Link at this "
                        "time. Enabling Private Link will disable these features. Are you sure you want to continue?")
NO_TTY = "Unable to prompt for confirmation as no tty available. Use --yes."
CUSTOM_LOCATIONS_OID_IGNORED = ("Private Link is being enabled, and Custom Location is not supported by Private Link at "
                                "this time, so the '--custom-locations-oid' parameter will be ignored.")
PROVIDER_NOT_REGISTERED = ("Microsoft.Kubernetes provider is not registered. Please register it using 'az provider "
                           "register -n 'Microsoft.Kubernetes' before running the connect command.")
LOCATION_UNSUPPORTED = "Connected cluster resource creation is supported only in the following locations: {locations}"
LOCATION_RECOMMENDATION = "Use the --location flag to specify one of these locations."
SCOPE_LOCATION_MISMATCH = ("The location of the private link scope resource does not match the location of connected "
                           "cluster resource. Please ensure that both the resources are in the same azure location.")
SCOPE_NOT_FOUND = ("The private link scope resource '{id}' does not exist. Please ensure that you pass a valid ARM "
                   "Resource Id.")
SCOPE_CHECK_WARNING = "Error occured while checking the private link scope resource location: {error}\n"
FEATURES_REFUSED = ("The features 'cluster-connect' and 'custom-locations' cannot be enabled for a private link enabled "
                    "connected cluster.")
# Not verbatim (the CLI only logs that the provider is missing; workload identity makes it an error).
CONFIG_PROVIDER_WARNING = ("Microsoft.KubernetesConfiguration provider is not registered: cluster extensions and GitOps "
                           "will not work until it is ('az provider register -n Microsoft.KubernetesConfiguration').")

_NAME = re.compile(r"^[-_a-zA-Z0-9]{1,260}$")  # azurerm's connected cluster name pattern


class OnboardingError(Exception):
    """A refusal with the CLI's text; ``kind`` is the azure-cli error class; exit code 2 or 1."""

    def __init__(self, message: str, kind: str = "ValidationError", recommendation: str = "", code: int = 2):
        super().__init__(message)
        self.kind, self.recommendation, self.code = kind, recommendation, code


@dataclass
class ConnectRequest:
    resource_group: str
    name: str
    location: str
    site: str | None = None
    address: str | None = None
    enable_private_link: bool | None = None
    private_link_scope_resource_id: str | None = None
    custom_locations_oid: str | None = None
    yes: bool = False
    key_kind: str = "rsa4096"
    distribution: str = "k3s"
    infrastructure: str = "generic"
    tags: dict = field(default_factory=dict)


def validate_flags(req: ConnectRequest) -> None:
    """``_validators.py::validate_private_link_properties``."""
    if req.private_link_scope_resource_id and not req.enable_private_link:
        raise OnboardingError(CONFLICTING_FLAGS, "ArgumentUsageError")
    if req.enable_private_link is True and not req.private_link_scope_resource_id:
        raise OnboardingError(MISSING_SCOPE_ID, "ArgumentUsageError")
    if not _NAME.fullmatch(req.name or ""):
        raise OnboardingError(f"The cluster name '{req.name}' is not valid: use 1-260 letters, digits, '-' or '_'.",
                              "InvalidArgumentValueError")


def confirm(req: ConnectRequest, ask: Callable[[str], bool] | None = None, warn: Callable[[str], None] = print) -> None:
    """The private link confirmation prompt (``utils.user_confirmation``)."""
    if req.enable_private_link is not True:
        return
    if req.custom_locations_oid:
        warn(CUSTOM_LOCATIONS_OID_IGNORED)
    if req.yes:
        return
    if ask is None:
        if not sys.stdin.isatty():
            raise OnboardingError(NO_TTY, "CLIInternalError")
        ask = _ask_tty
    if not ask(CONFIRM_PRIVATE_LINK):
        raise OnboardingError("Operation cancelled.", "ManualInterrupt")


def _ask_tty(msg: str) -> bool:
    answer = input(f"{msg} (y/n): ").strip().lower()
    return answer in ("y", "yes")


def check_providers(arm: ArmClient, warn: Callable[[str], None] = print) -> dict:
    """``check_provider_registrations``: Microsoft.Kubernetes must be registered; the other only warns."""
    sub = arm.subscription
    k8s = arm.get(f"/subscriptions/{sub}/providers/Microsoft.Kubernetes", API["Microsoft.Resources"])
    if (k8s.get("registrationState") or "").lower() != "registered":
        raise OnboardingError(PROVIDER_NOT_REGISTERED, "ValidationError")
    cfg = arm.get(f"/subscriptions/{sub}/providers/Microsoft.KubernetesConfiguration", API["Microsoft.Resources"])
    if (cfg.get("registrationState") or "").lower() != "registered":
        warn(CONFIG_PROVIDER_WARNING)
    return k8s


def check_location(provider: dict, location: str) -> None:
    """``validate_connect_rp_location``: the connectedClusters locations of the Microsoft.Kubernetes provider."""
    locations = []
    for rt in provider.get("resourceTypes") or []:
        if (rt.get("resourceType") or "").lower() == "connectedclusters":
            locations = [loc.replace(" ", "").lower() for loc in rt.get("locations") or []]
    if not locations:
        return  # the provider lists none: the CLI has nothing to compare with
    if location.replace(" ", "").lower() not in locations:
        raise OnboardingError(LOCATION_UNSUPPORTED.format(locations=locations), "ArgumentUsageError",
                              LOCATION_RECOMMENDATION)


def check_scope(arm: ArmClient, req: ConnectRequest, warn: Callable[[str], None] = print) -> None:
    """The scope exists and is in the cluster's region; other failures only warn, as in the CLI."""
    if req.enable_private_link is not True:
        return
    scope_id = req.private_link_scope_resource_id
    try:
        parts = scope_id.split("/")
        sub, rg, name = parts[2], parts[4], parts[8]  # the CLI's naive split
        scope = arm.get(f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.HybridCompute/"
                        f"privateLinkScopes/{name}", API["Microsoft.HybridCompute"])
    except ArmRequestError as exc:
        if exc.status == 404:
            raise OnboardingError(SCOPE_NOT_FOUND.format(id=scope_id), "ArgumentUsageError") from None
        warn(SCOPE_CHECK_WARNING.format(error=exc))
        return
    except IndexError as exc:  # a short id: the CLI only warns, with Python's own words
        warn(SCOPE_CHECK_WARNING.format(error=exc))
        return
    if (scope.get("location") or "").replace(" ", "").lower() != req.location.replace(" ", "").lower():
        raise OnboardingError(SCOPE_LOCATION_MISMATCH, "ArgumentUsageError")


def cluster_path(sub: str, rg: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Kubernetes/connectedClusters/{name}"


def key_path(state_dir: Path, sub: str, rg: str, name: str) -> Path:
    return Path(state_dir) / "agents" / f"{sub}_{rg}_{name}".lower() / "private-key.pem"


# What the agent knows of itself without asking Azure (the real agent's install values): its
# resource, its site and node address. In a lab the agent needs these before its first ARM call,
# which goes from that address through the site's network.
AGENT_CONFIG = "agent.json"


def save_agent_config(key_file: Path, cluster: dict, site: str | None, address: str | None) -> None:
    doc = {"id": cluster.get("id", ""), "name": cluster.get("name", ""), "location": cluster.get("location", ""),
           "site": site, "address": address}
    Path(key_file).with_name(AGENT_CONFIG).write_text(json.dumps(doc) + "\n")


def agent_configs(state_dir: Path, subscription: str, name: str, resource_group: str | None = None) -> list[dict]:
    """The saved configurations of the onboarded clusters named ``name`` (in ``resource_group`` if given)."""
    from arclink.model.resolved import parse_arm_id

    found = []
    for path in sorted((Path(state_dir) / "agents").glob(f"*/{AGENT_CONFIG}")):
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        parts = parse_arm_id(doc.get("id", "")) or {}
        if ((doc.get("name") or "").lower() == name.lower()
                and (parts.get("sub") or "").lower() == subscription.lower()
                and (resource_group is None or (parts.get("rg") or "").lower() == resource_group.lower())):
            found.append(doc)
    return found


@dataclass
class Onboarded:
    cluster: dict  # the connectedCluster as ARM returns it
    key_file: Path
    address: str | None
    site: str | None

    @property
    def id(self) -> str:
        return self.cluster.get("id", "")


def put_cluster(arm: ArmClient, req: ConnectRequest, state_dir: Path, key=None) -> Onboarded:
    """Key pair (reused on a re-run), then PUT the connectedCluster and wait for it."""
    sub = arm.subscription
    kp = key_path(state_dir, sub, req.resource_group, req.name)
    if key is None:
        key = pki.load_private_key(kp) if kp.exists() else pki.new_agent_key(req.key_kind)
    pki.save_private_key(kp, key)
    props = {"agentPublicKeyCertificate": pki.public_key_b64(key), "distribution": req.distribution,
             "infrastructure": req.infrastructure}
    if req.enable_private_link is not None:
        props["privateLinkState"] = "Enabled" if req.enable_private_link else "Disabled"
    if req.private_link_scope_resource_id:
        props["privateLinkScopeResourceId"] = req.private_link_scope_resource_id
    tags = dict(req.tags)
    if req.site:
        tags["arclink-site"] = req.site
    if req.address:
        tags["arclink-address"] = req.address
    body = {"location": req.location, "identity": {"type": "SystemAssigned"}, "tags": tags, "properties": props}
    cluster = arm.put(cluster_path(sub, req.resource_group, req.name), API["Microsoft.Kubernetes"], body)
    got = cluster.get("tags") or {}
    save_agent_config(kp, cluster, got.get("arclink-site") or req.site, got.get("arclink-address") or req.address)
    return Onboarded(cluster, kp, got.get("arclink-address") or req.address, got.get("arclink-site") or req.site)


def place(arm: ArmClient, req: ConnectRequest) -> None:
    """``--site`` must name a modelled site; ``--address`` must be in it, or one is chosen that no cluster uses."""
    import ipaddress

    if not req.site:
        return
    try:
        site = arm.get(f"/_arclink/sites/{req.site}", None)
    except ArmRequestError as exc:
        if exc.status == 404:
            raise OnboardingError(f"site '{req.site}' does not exist in the emulator; create it (control API "
                                  "/_arclink/sites, 'arclink apply' or 'serve --topology') or pick another --site.",
                                  "InvalidArgumentValueError") from None
        raise
    nets = [ipaddress.ip_network(p) for p in site.get("addressSpace") or []]
    if req.address:
        try:
            ip = ipaddress.ip_address(req.address)
        except ValueError:
            raise OnboardingError(f"--address '{req.address}' is not an IP address.", "InvalidArgumentValueError") from None
        if not any(ip in n for n in nets):
            raise OnboardingError(f"--address {req.address} is outside site '{req.site}' "
                                  f"({', '.join(map(str, nets))}); give an address in the site.",
                                  "InvalidArgumentValueError")
        return
    if not nets:
        raise OnboardingError(f"site '{req.site}' has no address space; give --address.", "InvalidArgumentValueError")
    found = arm.get(f"/subscriptions/{arm.subscription}/providers/Microsoft.Kubernetes/connectedClusters",
                    API["Microsoft.Kubernetes"]).get("value", [])
    used = {(c.get("tags") or {}).get("arclink-address") for c in found
            if (c.get("name") or "").lower() != req.name.lower()}
    used.add((site.get("dns") or {}).get("address"))
    net = nets[0]
    for k in range(10, net.num_addresses - 1):
        candidate = str(net.network_address + k)
        if candidate not in used:
            req.address = candidate
            return
    raise OnboardingError(f"site '{req.site}' has no free address left; give --address.", "InvalidArgumentValueError")


def connect(arm: ArmClient, req: ConnectRequest, state_dir: Path, *, ask=None, warn=print, key=None) -> Onboarded:
    """Every check in order, then the PUT. Raises ``OnboardingError`` with the CLI's text."""
    validate_flags(req)
    confirm(req, ask, warn)
    provider = check_providers(arm, warn)
    check_location(provider, req.location)
    check_scope(arm, req, warn)
    place(arm, req)
    return put_cluster(arm, req, state_dir, key)


def enable_features(arm: ArmClient, resource_group: str, name: str, features: list[str]) -> dict:
    """``az connectedk8s enable-features``: refused on a private link cluster for cluster-connect/custom-locations."""
    path = cluster_path(arm.subscription, resource_group, name)
    cluster = arm.get(path, API["Microsoft.Kubernetes"])
    wanted = [f.lower() for f in features]
    pl = ((cluster.get("properties") or {}).get("privateLinkState") or "").lower() == "enabled"
    if pl and ("cluster-connect" in wanted or "custom-locations" in wanted):
        raise OnboardingError(FEATURES_REFUSED, "InvalidArgumentValueError")
    props = cluster.get("properties") or {}
    configs = [c for c in props.get("arcAgentryConfigurations") or [] if isinstance(c, dict)]
    have = {(c.get("feature") or "").lower() for c in configs}
    configs += [{"feature": f, "settings": {}} for f in wanted if f not in have and f != "azure-rbac"]
    body = {"location": cluster.get("location"), "identity": cluster.get("identity") or {"type": "SystemAssigned"},
            "tags": cluster.get("tags") or {},
            "properties": {k: v for k, v in props.items() if k in (
                "agentPublicKeyCertificate", "distribution", "infrastructure", "privateLinkState",
                "privateLinkScopeResourceId", "aadProfile")}}
    body["properties"]["arcAgentryConfigurations"] = configs
    if "azure-rbac" in wanted:
        body["properties"].setdefault("aadProfile", {})["enableAzureRBAC"] = True
    return arm.put(path, API["Microsoft.Kubernetes"], body)
