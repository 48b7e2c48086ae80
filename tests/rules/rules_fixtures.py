"""The rule tests' fixtures: examples/good.yaml as a document or as text, edited and run through one rule.

Two ways to make a variant: change the parsed document (``good()``, ``site()``, ``run_doc``) or
replace exact snippets of the YAML text (``edited()``, ``run_text``), which keeps the example's
comments and order.
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from arclink.model import rules
from arclink.model.loader import loads

ROOT = Path(__file__).resolve().parents[2]
GOOD_TEXT = (ROOT / "examples" / "good.yaml").read_text()
GOOD_DOC = yaml.safe_load(GOOD_TEXT)
ROTTERDAM_FORWARDERS = """      conditionalForwarders:
        - {zone: his.arc.azure.com, targets: [10.10.3.4]}
        - {zone: guestconfiguration.azure.com, targets: [10.10.3.4]}
        - {zone: dp.kubernetesconfiguration.azure.com, targets: [10.10.3.4]}
    firewall:
      outbound: [AzureActiveDirectory, AzureResourceManager, MicrosoftContainerRegistry, AzureFrontDoor.FirstParty]
      inbound: [AzureFrontDoor.FirstParty]
  - name: store-utrecht"""


def good() -> dict:
    """A fresh copy of examples/good.yaml as a document."""
    return copy.deepcopy(GOOD_DOC)


def site(doc: dict, name: str) -> dict:
    return next(s for s in doc["sites"] if s["name"] == name)


def run_doc(doc: dict, rule_id: str):
    """The findings of one rule on a document."""
    return rules.run(loads(yaml.safe_dump(doc, sort_keys=False)), only=[rule_id])


def edited(*pairs: tuple[str, str], append: str = "") -> str:
    """examples/good.yaml with each (old, new) snippet replaced once (old must be there) and text appended."""
    text = GOOD_TEXT
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text + append


def run_text(text: str, rule_id: str):
    """The findings of one rule on a topology's YAML text."""
    return rules.run(loads(text), only=[rule_id])
