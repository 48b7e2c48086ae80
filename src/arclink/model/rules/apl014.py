"""APL014: the scope's subscription is registered to Microsoft.Kubernetes and Microsoft.KubernetesConfiguration.

Helper for the emulator: ``missing_providers(registered) -> list[str]`` gives the required
namespaces absent from a set of registered namespaces (any case).
"""

from __future__ import annotations

from typing import Iterable, Iterator

from arclink.model import catalogue as cat
from arclink.model.index import Index
from arclink.model.rules import Finding, Rule, finding

RULE = Rule(
    id="APL014",
    name="scope-subscription-providers-registered",
    severity="error",
    summary="The subscription of an Azure Arc Private Link Scope is registered to Microsoft.Kubernetes and "
            "Microsoft.KubernetesConfiguration.",
    seed="The subscription in which Private link Scope is present should be registered to `Microsoft.kubernetes` "
         "and `Microsoft.kubernetes.Configurations`.",
    fix="Register the resource providers: az provider register --namespace Microsoft.Kubernetes --subscription <id> and "
        "az provider register --namespace Microsoft.KubernetesConfiguration --subscription <id>, or list them under "
        "registeredProviders of the subscription in the topology.",
)

# The page's spellings, which are not namespaces ARM knows.
SEED_SPELLINGS = {"microsoft.kubernetes.configurations": "Microsoft.KubernetesConfiguration"}


def missing_providers(registered: Iterable[str]) -> list[str]:
    have = {p.lower() for p in registered}
    return [p for p in cat.REQUIRED_PROVIDERS if p.lower() not in have]


def check(ix: Index) -> Iterator[Finding]:
    # Without declared subscriptions the registrations are unknown, not missing.
    if not ix.topology.subscriptions:
        return
    for scope in ix.scopes.values():
        sub = ix.subscriptions.get(scope.subscription.lower())
        registered = list(sub.registered_providers) if sub else []
        missing = missing_providers(registered)
        if not missing:
            continue
        label = f"'{sub.name}' ({scope.subscription})" if sub and sub.name else f"'{scope.subscription}'"
        typo = [p for p in registered if p.lower() in SEED_SPELLINGS]
        hint = ""
        if typo:
            hint = (f"; '{typo[0]}' (the page's spelling) is not a namespace, the real one is "
                    f"'{SEED_SPELLINGS[typo[0].lower()]}'")
        yield finding(RULE, scope, f"subscription {label} of private link scope '{scope.name}' is not registered to "
                                   f"{' and '.join(missing)}{hint}.")
