"""The README's path: 'arclink serve --topology examples/good.yaml', then connect a new store cluster."""

from __future__ import annotations

import json
from pathlib import Path

from arclink.cli.main import main

GOOD = Path(__file__).resolve().parents[2] / "examples" / "good.yaml"
SCOPE = ("/subscriptions/8f2b1c3d-4e5f-4a6b-9c7d-1e2f3a4b5c6d/resourceGroups/rg-arc-hub/providers/"
         "Microsoft.HybridCompute/privateLinkScopes/pls-arc-retail")


def test_connect_a_new_cluster_to_a_seeded_topology(tmp_path, capsys):
    from arclink.stack import start_services
    from arclink.model.loader import load

    svc = start_services(tmp_path, in_memory=True, topology=load(GOOD).topology)
    try:
        ep = str(tmp_path / "endpoints.json")
        code = main(["connect", "-g", "rg-arc-clusters", "-n", "k3s-new", "-l", "westeurope", "--site",
                     "store-rotterdam", "--enable-private-link", "true", "--pls-arm-id", SCOPE, "--yes",
                     "--key-type", "ec", "--subscription", "8f2b1c3d-4e5f-4a6b-9c7d-1e2f3a4b5c6d", "-o", "json",
                     "--emulator", ep])
        out = capsys.readouterr().out
        assert code == 0, out
        doc = json.loads(out)
        assert doc["agent"]["status"] == "Connected" and doc["agent"]["config"]["path"] == "private"
        assert doc["tags"]["arclink-address"].startswith("192.168.20.")
    finally:
        svc.stop()
