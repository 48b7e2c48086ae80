"""A small ARM REST client for onboarding: HTTPS to the emulator with its CA and bearer token.

Onboarding needs four calls (provider GET, scope GET, connectedCluster PUT with its
long-running operation, GET), so this is ``http.client`` with keep-alive rather than
the azure-mgmt-* packages, which stay test dependencies.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from arclink.endpoints import EndpointsError, locate, read_endpoints
from arclink.net import is_loopback

API = {
    "Microsoft.Resources": "2022-09-01",
    "Microsoft.Kubernetes": "2024-01-01",
    "Microsoft.HybridCompute": "2024-07-10",
    "Microsoft.KubernetesConfiguration": "2023-05-01",
    "Microsoft.Network": "2024-05-01",
    "Microsoft.Network/privateDnsZones": "2024-06-01",
}


class ArmRequestError(Exception):
    """An ARM request answered with an error: HTTP status, ``code`` and ``message`` from the error body.

    (The emulator raises ``arclink.arm.errors.ArmError`` to produce such answers; this is the client's side.)
    """

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"({code}) {message}")
        self.status, self.code, self.message = status, code, message


class EmulatorUnavailable(Exception):
    pass


@dataclass
class Endpoints:
    arm: str
    ca_cert: str
    token: str
    subscription: str
    tenant: str
    dns: tuple[str, int]
    gateway: tuple[str, int]
    state_dir: Path

    @classmethod
    def load(cls, path: str | Path) -> "Endpoints":
        p = locate(path)
        try:
            doc = read_endpoints(p)
        except EndpointsError as exc:
            raise EmulatorUnavailable(str(exc)) from None
        for part in ("dns", "gateway"):
            if doc.get(part) is None and part in doc:
                raise EmulatorUnavailable(f"the emulator of {p} runs without its {part} server; restart "
                                          "'arclink serve' with every part installed.")
        try:
            return cls.from_dict(doc, p.resolve().parent)
        except (KeyError, TypeError, ValueError) as exc:
            raise EmulatorUnavailable(f"{p} lacks the key {exc}; it was not written by 'arclink serve'.") from None

    @classmethod
    def from_dict(cls, doc: dict, state_dir: str | Path) -> "Endpoints":
        return cls(doc["arm"], doc["ca_cert"], doc["token"], doc["subscription"], doc.get("tenant", ""),
                   (doc["dns"]["host"], int(doc["dns"]["port"])),
                   (doc["gateway"]["host"], int(doc["gateway"]["port"])), Path(state_dir))


class ArmClient:
    """One keep-alive HTTPS connection per thread to the emulator's ARM endpoint."""

    def __init__(self, endpoints: Endpoints, timeout: float = 30.0, poll_cap: float = 0.05, dial=None):
        """``dial(host, port, timeout) -> socket``: how to reach ARM when not on loopback (a lab site's
        namespace, whose network is closed off from the machine's)."""
        self.ep = endpoints
        u = urllib.parse.urlsplit(endpoints.arm)
        self.host, self.port = u.hostname, u.port or 443
        self.dial = dial
        if dial is None and not is_loopback(self.host):
            raise EmulatorUnavailable(f"the emulator's ARM endpoint {endpoints.arm} is not on loopback; give the "
                                      "endpoints.json 'arclink serve' wrote.")
        try:
            self.ctx = ssl.create_default_context(cafile=endpoints.ca_cert)
        except (OSError, ssl.SSLError) as exc:
            raise EmulatorUnavailable(f"cannot load the emulator's CA {endpoints.ca_cert} ({exc}); restart "
                                      "'arclink serve' to rewrite it.") from None
        self.timeout, self.poll_cap = timeout, poll_cap
        self._local = threading.local()

    def close(self) -> None:
        """Close this thread's connection (a server shutting down waits for idle keep-alives)."""
        c = getattr(self._local, "conn", None)
        if c is not None:
            c.close()
            self._local.conn = None

    @property
    def subscription(self) -> str:
        return self.ep.subscription

    def _conn(self) -> http.client.HTTPSConnection:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = self._local.conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                                               timeout=self.timeout)
            if self.dial is not None:
                dial, ctx, host = self.dial, self.ctx, self.host

                def connect() -> None:
                    c.sock = ctx.wrap_socket(dial(host, c.port, c.timeout), server_hostname=host)

                c.connect = connect  # type: ignore[method-assign]
        return c

    def request(self, method: str, path: str, api_version: str | None = None, body: dict | None = None,
                ) -> tuple[int, dict, dict | None]:
        url = path
        if api_version and "api-version=" not in path:
            url += ("&" if "?" in path else "?") + f"api-version={api_version}"
        if url.startswith("https://"):
            url = urllib.parse.urlsplit(url)._replace(scheme="", netloc="").geturl()
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self.ep.token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            conn = self._conn()
            try:
                conn.request(method, url, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
                break
            except (http.client.HTTPException, ConnectionError, ssl.SSLError, OSError) as exc:
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    hint = ("Does the site's firewall allow AzureResourceManager?" if self.dial is not None
                            else "Is 'arclink serve' running?")  # a lab site's network, or loopback
                    raise EmulatorUnavailable(f"the emulator's ARM endpoint {self.ep.arm} does not answer ({exc}). "
                                              + hint) from None
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        doc = None
        if raw:
            try:
                doc = json.loads(raw)
            except ValueError:
                doc = None
        if resp.status >= 400:
            err = (doc or {}).get("error") or {}
            raise ArmRequestError(resp.status, err.get("code", f"HTTP{resp.status}"), err.get("message", raw[:200].decode(errors="replace")))
        return resp.status, hdrs, doc

    def get(self, path: str, api_version: str) -> dict:
        return self.request("GET", path, api_version)[2] or {}

    def put(self, path: str, api_version: str, body: dict, wait: bool = True) -> dict:
        """PUT and, for a long-running operation, poll until it ends; the resource as GET shows it."""
        status, hdrs, doc = self.request("PUT", path, api_version, body)
        if wait:
            self.wait(hdrs, status)
            if status in (201, 202) and (hdrs.get("azure-asyncoperation") or hdrs.get("location")):
                return self.get(path, api_version)
        return doc or {}

    def post(self, path: str, api_version: str, body: dict | None = None) -> dict:
        status, hdrs, doc = self.request("POST", path, api_version, body if body is not None else {})
        self.wait(hdrs, status)
        return doc or {}

    def delete(self, path: str, api_version: str) -> None:
        status, hdrs, _ = self.request("DELETE", path, api_version)
        self.wait(hdrs, status)

    def wait(self, hdrs: dict, status: int) -> None:
        op = hdrs.get("azure-asyncoperation")
        loc = hdrs.get("location") if status == 202 else None
        if not (op or loc):
            return
        deadline = time.monotonic() + self.timeout
        delay = 0.0  # the emulator often finishes at once; ask before sleeping
        while time.monotonic() < deadline:
            if delay:
                time.sleep(delay)
            st, h, doc = self.request("GET", op or loc)
            if op:
                state = (doc or {}).get("status", "")
                if state.lower() in ("succeeded", "failed", "canceled"):
                    if state.lower() != "succeeded":
                        err = (doc or {}).get("error") or {}
                        raise ArmRequestError(200, err.get("code", state), err.get("message", f"The operation {state}."))
                    return
            elif st != 202:
                return
            delay = min(max(float(h.get("retry-after", "0") or 0), 0.01), self.poll_cap)
        raise ArmRequestError(0, "OperationTimeout", "The long-running operation did not finish in time.")
