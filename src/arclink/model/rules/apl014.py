"""APL014: the subscriptions are registered to the resource providers their resources need.

The page: the scope's subscription is registered to Microsoft.Kubernetes and
Microsoft.KubernetesConfiguration. ARM: every write needs its namespace registered in the
resource's subscription, or it is refused with MissingSubscriptionRegistration (the emulator
does the same): the scope needs Microsoft.HybridCompute, a cluster Microsoft.Kubernetes (and
Microsoft.KubernetesConfiguration for its extensions), endpoints, virtual networks, NSGs and
private DNS zones Microsoft.Network. The data is ``subscriptions[].registeredProviders``; without
declared subscriptions the registrations are unknown, not missing. The decision is
``model.onboarding.unregistered``, the same ``arclink explain`` shows as a hop.

Reported once per scope (its subscription's missing namespaces, the page's and the scope's own),
then once per subscription for the other resources that need a namespace it lacks (``related``
names them all).
"""

from __future__ import annotations

from typing import Iterable, Iterator

from arclink.model import catalogue as cat
from arclink.model.index import ClusterR, Index, NsgR, PeR, VNetR, ZoneR
from arclink.model.onboarding import missing_providers as _missing
from arclink.model.onboarding import registered_providers, unregistered
from arclink.model.rules import Finding, Rule, finding
from arclink.model.resolved import shown

RULE = Rule(
    id="APL014",
    name="scope-subscription-providers-registered",
    severity="error",
    summary="The subscription of an Azure Arc Private Link Scope is registered to Microsoft.Kubernetes and "
            "Microsoft.KubernetesConfiguration (and Microsoft.HybridCompute); every resource's subscription to the "
            "provider of its type.",
    seed="The subscription in which Private link Scope is present should be registered to `Microsoft.kubernetes` "
         "and `Microsoft.kubernetes.Configurations`.",
    fix="Register the resource providers: az provider register --namespace Microsoft.Kubernetes --subscription <id> and "
        "az provider register --namespace Microsoft.KubernetesConfiguration --subscription <id> (and "
        "Microsoft.HybridCompute, Microsoft.Network where the finding names them), or list them under "
        "registeredProviders of the subscription in the topology.",
)

# The page's spellings, which are not namespaces ARM knows.
SEED_SPELLINGS = {"microsoft.kubernetes.configurations": "Microsoft.KubernetesConfiguration"}


def missing_providers(registered: Iterable[str]) -> list[str]:
    """The page's two namespaces absent from ``registered`` (any case)."""
    return _missing(registered, cat.REQUIRED_PROVIDERS)


def _label(ix: Index, subscription: str) -> str:
    sub = ix.subscriptions.get(subscription.lower())
    return f"'{sub.name}' ({subscription})" if sub and sub.name else f"'{subscription}'"


def check(ix: Index) -> Iterator[Finding]:
    if not ix.topology.subscriptions:
        return
    for scope in ix.scopes.values():
        missing = unregistered(ix, scope)
        if not missing:
            continue
        registered = registered_providers(ix, scope.subscription) or []
        typo = [p for p in registered if p.lower() in SEED_SPELLINGS]
        hint = ""
        if typo:
            hint = (f"; '{typo[0]}' (the page's spelling) is not a namespace, the real one is "
                    f"'{SEED_SPELLINGS[typo[0].lower()]}'")
        yield finding(RULE, scope, f"subscription {_label(ix, scope.subscription)} of private link scope {shown(scope)} "
                                   f"is not registered to {' and '.join(missing)}{hint}.")
    yield from _other_resources(ix)


def _other_resources(ix: Index) -> Iterator[Finding]:
    """One finding per subscription for the clusters and network resources ARM would refuse."""
    by_sub: dict[str, tuple[str, dict[str, list]]] = {}
    subjects: list[ClusterR | PeR | VNetR | NsgR | ZoneR] = [
        *ix.clusters.values(), *ix.endpoints.values(), *ix.vnets.values(), *ix.nsgs.values(), *ix.zones.values()]
    for res in subjects:
        for ns in unregistered(ix, res):
            entry = by_sub.setdefault(res.subscription.lower(), (res.subscription, {}))
            entry[1].setdefault(ns, []).append(res)
    declared = {s.id.lower(): i for i, s in enumerate(ix.topology.subscriptions)}
    for key, (subscription, needs) in by_sub.items():
        resources = [r for rs in needs.values() for r in rs]
        first = resources[0]
        parts = [f"{ns} (needed by {_names(rs)})" for ns, rs in needs.items()]
        where = f"$.subscriptions[{declared[key]}]" if key in declared else first.path
        yield _subscription_finding(subscription, where, f"subscription {_label(ix, subscription)} is not registered to "
                                    f"{' and '.join(parts)}: ARM refuses their writes with MissingSubscriptionRegistration.",
                                    list(dict.fromkeys(r.id for r in resources)))


def _names(resources: list) -> str:
    listed = ", ".join(shown(r) for r in resources[:3])
    return listed + (f" and {len(resources) - 3} more" if len(resources) > 3 else "")


def _subscription_finding(subscription: str, path: str, message: str, related: list[str]) -> Finding:
    return Finding(RULE.id, RULE.severity, message, RULE.fix, f"/subscriptions/{subscription}", path, related)


__all__ = ["RULE", "SEED_SPELLINGS", "check", "missing_providers"]
