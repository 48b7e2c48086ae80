"""LineFinder: the line-scanning fast path agrees with composing the whole YAML tree."""

from __future__ import annotations

import re

import pytest
import yaml

from arclink.model.loader import LineFinder
from model_fixtures import EXAMPLES

ODD = """\
# items at column 0, comments and blank lines between them, a quoted key, a flow section
"sites":
- name: a
  addressSpace: [192.168.1.0/24]

  # a comment inside an item
  dns:
    address: 192.168.1.53
    conditionalForwarders:
    - {zone: his.arc.azure.com, targets: [10.0.0.4]}
    - zone: guestconfiguration.azure.com
      targets:
        - 10.0.0.4
- name: b
  addressSpace:
  - 192.168.2.0/24
clusters: [{name: c1}, {name: c2}]
virtualNetworks:
  - name: v
    addressSpace: [10.0.0.0/16]
"""


def _paths(obj, p="$"):
    yield p
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, f"{p}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, f"{p}[{i}]")


def _parts(path):
    return re.findall(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]", path)


@pytest.mark.parametrize("text", [ODD, (EXAMPLES / "good.yaml").read_text(),
                                  (EXAMPLES / "broken" / "two-scopes-one-vnet.yaml").read_text()],
                         ids=["odd-layout", "good", "two-scopes"])
def test_fast_path_agrees_with_the_tree(text):
    fast, tree = LineFinder(text), LineFinder(text)
    paths = list(_paths(yaml.safe_load(text)))
    assert len(paths) > 20
    for p in paths:
        assert fast(p) == tree._slow(_parts(p)), p


def test_known_lines_and_missing_paths():
    lf = LineFinder(ODD)
    assert lf("$.sites[0].dns.conditionalForwarders[1].targets[0]") == 13
    assert lf("$.sites[1]") == 14
    assert lf("$.clusters[1]") == 17
    assert lf("$.virtualNetworks[0].addressSpace") == 20
    assert lf("$.sites[7]") == 2  # no such item: the nearest existing parent
    assert lf("$.sites[0].nothing") == 3
