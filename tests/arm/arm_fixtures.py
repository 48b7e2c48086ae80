"""The seed's steps through the real SDKs, shared by several tests."""

from __future__ import annotations

ZONES = ("privatelink.his.arc.azure.com", "privatelink.guestconfiguration.azure.com",
         "privatelink.dp.kubernetesconfiguration.azure.com")


def start(c, rg="rg", location="westeurope"):
    """Where most tests begin: every provider registered and one resource group."""
    c.register_all()
    c.resources.resource_groups.create_or_update(rg, {"location": location})


def vnet(c, rg, name, prefix="10.10.0.0/16", subnet="10.10.1.0/24", location="westeurope"):
    return c.network.virtual_networks.begin_create_or_update(rg, name, {
        "location": location,
        "properties": {"addressSpace": {"addressPrefixes": [prefix]},
                       "subnets": [{"name": "snet-pe", "properties": {"addressPrefix": subnet}}]}}).result()


def scope(c, rg, name, location="westeurope"):
    return c.hybridcompute.private_link_scopes.create_or_update(rg, name, {"location": location})


def endpoint(c, rg, name, subnet_id, target_id, *, manual=False, group="hybridcompute", location="westeurope"):
    key = "manualPrivateLinkServiceConnections" if manual else "privateLinkServiceConnections"
    return c.network.private_endpoints.begin_create_or_update(rg, name, {
        "location": location,
        "properties": {"subnet": {"id": subnet_id},
                       key: [{"name": name, "properties": {"privateLinkServiceId": target_id, "groupIds": [group]}}]}}).result()


def zones(c, rg, vnet_id):
    ids = []
    for z in ZONES:
        ids.append(c.dns.private_zones.begin_create_or_update(rg, z, {"location": "global"}).result().id)
        c.dns.virtual_network_links.begin_create_or_update(rg, z, "link-hub", {
            "location": "global", "properties": {"virtualNetwork": {"id": vnet_id}, "registrationEnabled": False}}).result()
    return ids


def zone_group(c, rg, pe_name, zone_ids):
    return c.network.private_dns_zone_groups.begin_create_or_update(rg, pe_name, "default", {
        "properties": {"privateDnsZoneConfigs": [{"name": z.rsplit("/", 1)[-1].replace(".", "-"),
                                                  "properties": {"privateDnsZoneId": z}} for z in zone_ids]}}).result()


def cluster(c, rg, name, scope_id=None, location="westeurope", features=(), tags=None):
    props = {"agentPublicKeyCertificate": "MIIBCgKCAQEAtest"}
    if scope_id:
        props.update(privateLinkState="Enabled", privateLinkScopeResourceId=scope_id)
    if features:
        props["arcAgentryConfigurations"] = [{"feature": f, "settings": {}} for f in features]
    return c.k8s.connected_cluster.begin_create_or_replace(rg, name, {
        "location": location, "tags": tags or {}, "identity": {"type": "SystemAssigned"}, "properties": props}).result()


# --- in-process ARM requests and body mutations, for the tests that call the ASGI app directly ---

def asgi_call(loop, app, method: str, path: str, raw: bytes = b"", query: str = "",
              headers: list[tuple[bytes, bytes]] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request to the ASGI ``app`` on ``loop``: (status, response headers, body)."""
    scope = {"type": "http", "method": method, "path": path, "query_string": query.encode(),
             "headers": list(headers or [])}
    sent: list[dict] = []
    messages = [{"type": "http.request", "body": raw, "more_body": False}]

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(msg):
        sent.append(msg)

    loop.run_until_complete(app(scope, receive, send))
    hdrs = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    return sent[0]["status"], hdrs, sent[1].get("body", b"")


def json_paths(doc, prefix=()):
    """Every path into a JSON document (keys and list indexes), the document's own first."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from json_paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from json_paths(v, prefix + (i,))


def json_replace(doc, path, value):
    """A copy of ``doc`` with the value at ``path`` replaced."""
    import copy

    if not path:
        return value
    out = copy.deepcopy(doc)
    cur = out
    for p in path[:-1]:
        cur = cur[p]
    cur[path[-1]] = value
    return out
