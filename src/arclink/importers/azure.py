"""Read a deployment through ARM: every resource the model holds, with the fewest requests.

One azure-core pipeline for every call (the same for real Azure and for the emulator): bearer
tokens from an ``azure-identity`` credential, ``429``/``Retry-After`` and transient errors retried by
``RetryPolicy``, paging by ``nextLink``. Top-level types are listed once per subscription (or
resource group); the child collections ARM does not inline are listed once per parent, with a
bounded number of reads in flight. ``/resources`` is listed too, to count what the model does not
know. What one-GET-per-resource would have cost is counted beside what was spent.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlsplit

from arclink.importers import arm_types
from arclink.importers.errors import ImportFailure

ARM_SCOPE = "https://management.azure.com/.default"
READER = "Reader"


@dataclass
class Source:
    """Where and as whom to read: the ARM address, the credential, the CA, and what to read."""

    arm: str
    credential: Any  # an azure-core TokenCredential
    scope: str = ARM_SCOPE
    ca_cert: str | None = None
    subscriptions: list[str] = field(default_factory=list)  # empty: every subscription the credential sees
    resource_groups: list[str] = field(default_factory=list)
    control_api: bool = False  # the emulator: on-premises facts from /_arclink/
    trust_env: bool = True  # proxies and CA bundles from the environment (False for the emulator)
    workers: int = 8


@dataclass
class Result:
    resources: list[dict]
    onprem: dict
    counts: Counter  # ARM type (as ARM spells it) -> resources read
    unknown: Counter  # types in the subscriptions the model does not know -> how many
    requests: int = 0  # HTTP requests sent, retries included
    throttled: int = 0  # answers 429
    per_resource_gets: int = 0  # what an importer issuing one GET per resource would need
    skipped: list[str] = field(default_factory=list)  # listings the endpoint does not serve


class _Counter:
    """Counts every attempt (it sits after the retry policy) and the 429s among them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent = 0
        self.throttled = 0

    def policy(self) -> Any:
        from azure.core.pipeline.policies import SansIOHTTPPolicy

        outer = self

        class CountPolicy(SansIOHTTPPolicy):  # type: ignore[misc]
            def on_request(self, request: Any) -> None:
                with outer.lock:
                    outer.sent += 1

            def on_response(self, request: Any, response: Any) -> None:
                if response.http_response.status_code == 429:
                    with outer.lock:
                        outer.throttled += 1

        return CountPolicy()


class Reader:
    """GETs through one pipeline; ``list(path)`` follows nextLink pages."""

    def __init__(self, source: Source) -> None:
        from azure.core import PipelineClient
        from azure.core.pipeline.policies import (BearerTokenCredentialPolicy, HeadersPolicy, RetryPolicy,
                                                  UserAgentPolicy)
        from azure.core.pipeline.transport import RequestsTransport

        self.source = source
        self.base = source.arm.rstrip("/")
        self.host = urlsplit(self.base).netloc.lower()
        self.counter = _Counter()
        session = _session(source.trust_env, source.workers)
        transport = RequestsTransport(session=session, session_owner=True,
                                      connection_verify=source.ca_cert or True)
        self.client = PipelineClient(self.base, policies=[
            HeadersPolicy({"Accept": "application/json"}), UserAgentPolicy("arclink-import"),
            RetryPolicy(retry_total=10), BearerTokenCredentialPolicy(source.credential, source.scope),
            self.counter.policy()], transport=transport)

    def close(self) -> None:
        self.client.close()

    def get(self, path_or_url: str, api_version: str | None) -> dict:
        from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError, ServiceResponseError
        from azure.core.rest import HttpRequest

        url = path_or_url if path_or_url.startswith("https://") else self.base + path_or_url
        if urlsplit(url).netloc.lower() != self.host:  # a nextLink elsewhere is never followed
            raise ImportFailure(f"ARM answered with a next page on another host ({url}); refusing to follow it.")
        params = {"api-version": api_version} if api_version and "api-version=" not in url else None
        try:
            resp = self.client.send_request(HttpRequest("GET", url, params=params))
        except ClientAuthenticationError as exc:
            raise ImportFailure(f"could not get a token for {self.source.scope}: {_first_line(exc)}. Sign in "
                                "(az login, or the service principal's environment variables) and retry.") from None
        except (ServiceRequestError, ServiceResponseError) as exc:
            raise ImportFailure(f"cannot reach ARM at {self.base} ({_first_line(exc)}).") from None
        if resp.status_code >= 400:
            raise ArmAnswer(resp.status_code, url, _error_of(resp))
        try:
            doc = resp.json()
        except ValueError:
            raise ImportFailure(f"ARM answered {url} with a body that is not JSON.") from None
        if not isinstance(doc, dict):
            raise ImportFailure(f"ARM answered {url} with JSON that is not an object.")
        return doc

    def list(self, path: str, api_version: str) -> list[dict]:
        out: list[dict] = []
        doc = self.get(path, api_version)
        while True:
            out.extend(v for v in doc.get("value") or [] if isinstance(v, dict))
            nxt = doc.get("nextLink")
            if not nxt:
                return out
            doc = self.get(nxt, None)


class ArmAnswer(Exception):
    def __init__(self, status: int, url: str, error: dict) -> None:
        super().__init__(f"{status} {error.get('code')}")
        self.status, self.url, self.code, self.message = status, url, error.get("code") or "", error.get("message") or ""


def _session(trust_env: bool, workers: int) -> Any:
    import requests
    from requests.adapters import HTTPAdapter

    s = requests.Session()
    s.trust_env = trust_env  # the emulator: REQUESTS_CA_BUNDLE or a proxy in the environment must not win
    adapter = HTTPAdapter(pool_connections=workers, pool_maxsize=workers * 2)
    s.mount("https://", adapter)
    return s


def _error_of(resp: Any) -> dict:
    try:
        err = resp.json().get("error")
        return err if isinstance(err, dict) else {}
    except Exception:
        return {}


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# Listings that say "this endpoint has no such type" or "this provider is not registered": nothing to read.
_NOT_SERVED = {"InvalidResourceType", "InvalidResourceNamespace", "NoRegisteredProviderFound",
               "MissingSubscriptionRegistration", "SubscriptionNotRegistered", "InvalidApiVersionParameter"}


def _refused(exc: ArmAnswer, what: str, scope: str) -> ImportFailure:
    if exc.status == 403:
        return ImportFailure(f"no permission to read {what} in {scope} ({exc.code or 'Forbidden'}): give the "
                             f"identity the {READER} role on {scope} (az role assignment create --role {READER} "
                             f"--assignee <identity> --scope {scope}).")
    if exc.status == 401:
        return ImportFailure(f"ARM refused the credential reading {what} in {scope} ({exc.code}: {exc.message}).")
    return ImportFailure(f"ARM answered {exc.status} {exc.code} reading {what} in {scope}: {exc.message}")


def read(source: Source, versions: Mapping[str, str], progress: Callable[[int, int], None] | None = None) -> Result:
    """Every resource of the table in the chosen subscriptions and resource groups."""
    reader = Reader(source)
    try:
        return _read(reader, source, versions, progress or (lambda done, total: None))
    finally:
        reader.close()


def _read(reader: Reader, source: Source, versions: Mapping[str, str],
          progress: Callable[[int, int], None]) -> Result:
    v = lambda t: arm_types.version(versions, t)  # noqa: E731
    subs = source.subscriptions
    if not subs:
        try:
            listed = reader.list("/subscriptions", v("Microsoft.Resources/subscriptions"))
        except ArmAnswer as exc:
            raise _refused(exc, "the subscription list", "the tenant") from None
        subs = [s["subscriptionId"] for s in listed if s.get("subscriptionId") and s.get("state", "Enabled") == "Enabled"]
        if not subs:
            raise ImportFailure("the credential sees no subscription; give --subscription ID or grant it the "
                                f"{READER} role on one.")
    result = Result([], {}, Counter(), Counter())
    known = arm_types.known_types()
    lock = threading.Lock()
    done = [0, 0]  # finished, planned

    def step(n: int = 1, planned: int = 0) -> None:
        with lock:
            done[0] += n
            done[1] += planned
            progress(done[0], done[1])

    def listing(path: str, api_version: str, what: str, scope: str) -> list[dict]:
        try:
            return reader.list(path, api_version)
        except ArmAnswer as exc:
            if exc.status in (404, 409, 400) and exc.code in _NOT_SERVED:
                with lock:
                    result.skipped.append(f"{what} in {scope}: {exc.code}")
                return []
            if exc.status == 404 and exc.code in ("ResourceGroupNotFound", "SubscriptionNotFound"):
                raise ImportFailure(f"{scope} does not exist ({exc.code}): check --subscription and "
                                    "--resource-group.") from None
            raise _refused(exc, what, scope) from None
        finally:
            step()

    jobs: list[tuple[str, str, str, str]] = []  # (path, api-version, what, scope)
    for sub in subs:
        sub_id = f"/subscriptions/{sub}"
        jobs.append((f"{sub_id}/resourcegroups", v("Microsoft.Resources/resourceGroups"), "resource groups", sub_id))
        jobs.append((f"{sub_id}/providers", v("Microsoft.Resources/providers"), "resource providers", sub_id))
        scopes = [f"{sub_id}/resourceGroups/{rg}" for rg in source.resource_groups] or [sub_id]
        for scope in scopes:
            jobs.append((f"{scope}/resources", v("Microsoft.Resources/resources"), "resources", scope))
            for t in arm_types.TYPES:
                jobs.append((t.path(scope), v(t.type), t.type, scope))
    step(0, len(jobs))
    wanted_rgs = {rg.lower() for rg in source.resource_groups}
    with ThreadPoolExecutor(max_workers=max(1, source.workers)) as pool:
        answers = list(pool.map(lambda j: (j, listing(*j)), jobs))
        parents: list[tuple[dict, arm_types.Child]] = []
        for (path, _, what, scope), items in answers:
            if what == "resource providers":
                for p in items:
                    if p.get("namespace") and p.get("registrationState") == "Registered":
                        result.resources.append({"id": f"{scope}/providers/{p['namespace']}", "namespace": p["namespace"],
                                                 "registrationState": "Registered"})
                continue
            if what == "resources":
                for r in items:
                    rtype = str(r.get("type") or "")
                    if rtype.lower() not in known:
                        result.unknown[rtype] += 1
                continue
            if what == "resource groups":
                items = [r for r in items if not wanted_rgs or str(r.get("name", "")).lower() in wanted_rgs]
            for r in items:
                result.resources.append(r)
                result.counts[str(r.get("type") or what)] += 1
            entry = next((t for t in arm_types.TYPES if t.type == what), None)
            if entry is not None:
                parents += [(r, c) for r in items for c in entry.children if r.get("id")]
        step(0, len(parents))
        children = list(pool.map(
            lambda pc: (pc, listing(f"{pc[0]['id']}/{pc[1].segment}", v(pc[1].version_of), pc[1].segment, pc[0]["id"])),
            parents))
    for (_, child), items in children:
        for r in items:
            result.resources.append(r)
            result.counts[str(r.get("type") or child.version_of)] += 1
    # One GET per resource still has to find the ids: the /resources pages (100 a page) and one
    # listing per parent for the children /resources does not show; the providers as here.
    top = sum(1 for r in result.resources if "namespace" not in r and len(str(r.get("id")).split("/")) <= 9)
    result.per_resource_gets = (sum(1 for r in result.resources if "namespace" not in r) + len(parents)
                                + len(subs) * 2 + -(-top // 100))
    if source.control_api:
        result.onprem = _control_api(reader)
    result.requests, result.throttled = reader.counter.sent, reader.counter.throttled
    return result


def _control_api(reader: Reader) -> dict:
    """Sites and DNS forwarders from the emulator's control API (ARM has no resource for them)."""
    out: dict[str, Any] = {}
    for key, path in (("sites", "/_arclink/sites"), ("dnsForwarders", "/_arclink/dnsForwarders")):
        try:
            out[key] = reader.get(path, None).get("value") or []
        except ArmAnswer as exc:
            raise ImportFailure(f"the emulator's control API answered {exc.status} {exc.code} for {path}: "
                                f"{exc.message}") from None
    return out


def iter_types(resources: Iterable[dict]) -> Counter:
    return Counter(str(r.get("type")) for r in resources if r.get("type"))
