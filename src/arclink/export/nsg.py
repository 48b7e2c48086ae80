"""The seed's four NSG rules as JSON (``securityRules`` in ARM's shape).

Front Door is "Allow (Both inbound and outbound)", so it is two rules: the seed's name for
the outbound one and ``AllowAzureFrontDoorFirstPartyInbound`` for the inbound one.
"""

from __future__ import annotations

import json

from arclink.export.plan import seed_security_rules

MAIN_FILE = "nsg-rules.json"


def render() -> dict[str, str]:
    doc = {"description": "Azure Arc private link for Arc-enabled Kubernetes: the seed's NSG rules "
                          "(priorities 150-153 must rank before any rule that blocks internet access).",
           "securityRules": seed_security_rules()}
    return {MAIN_FILE: json.dumps(doc, indent=2) + "\n"}
