"""Fixtures: an in-process emulator (in memory, port 0) and SDK clients bound to it."""

from __future__ import annotations

import pytest

from arclink.sdk import EmulatorCredential, client_kwargs

NAMESPACES = ("Microsoft.HybridCompute", "Microsoft.Network", "Microsoft.Kubernetes", "Microsoft.KubernetesConfiguration")


@pytest.fixture
def emulator(tmp_path):
    from arclink.stack import start_services

    svc = start_services(tmp_path / "state", in_memory=True)
    yield svc
    svc.stop()


class Clients:
    def __init__(self, svc):
        from azure.mgmt.hybridcompute import HybridComputeManagementClient
        from azure.mgmt.hybridkubernetes import ConnectedKubernetesClient
        from azure.mgmt.kubernetesconfiguration import SourceControlConfigurationClient
        from azure.mgmt.network import NetworkManagementClient
        from azure.mgmt.privatedns import PrivateDnsManagementClient
        from azure.mgmt.resource.resources import ResourceManagementClient

        path = svc.state_dir / "endpoints.json"
        self.path = path
        self.svc = svc
        cred, kw = EmulatorCredential(path), client_kwargs(path)
        self.sub = svc.endpoints["subscription"]
        self.resources = ResourceManagementClient(cred, self.sub, **kw)
        self.hybridcompute = HybridComputeManagementClient(cred, self.sub, **kw)
        self.network = NetworkManagementClient(cred, self.sub, **kw)
        self.dns = PrivateDnsManagementClient(cred, self.sub, **kw)
        self.k8s = ConnectedKubernetesClient(cred, self.sub, **kw)
        self.config = SourceControlConfigurationClient(cred, self.sub, **kw)

    def raw(self, method: str, path: str, body=None, api_version: str | None = "2025-01-13", headers=None,
            data: bytes | None = None):
        """A plain HTTPS request (no SDK policies): (status, parsed JSON or None)."""
        import json
        import ssl
        import urllib.error
        import urllib.request

        ep = self.svc.endpoints
        from urllib.parse import quote

        url = ep["arm"] + quote(path, safe="/?&=$%")
        if api_version:
            url += ("&" if "?" in url else "?") + f"api-version={api_version}"
        payload = data if data is not None else (json.dumps(body).encode() if body is not None else None)
        hdrs = {"Authorization": f"Bearer {ep['token']}", "Content-Type": "application/json", **(headers or {})}
        req = urllib.request.Request(url, data=payload, method=method, headers=hdrs)
        ctx = ssl.create_default_context(cafile=ep["ca_cert"])
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
                text = resp.read()
                return resp.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as exc:
            text = exc.read()
            try:
                return exc.code, json.loads(text) if text else None
            except ValueError:
                return exc.code, text

    def register_all(self):
        for ns in NAMESPACES:
            self.resources.providers.register(ns)


@pytest.fixture
def clients(emulator):
    return Clients(emulator)
