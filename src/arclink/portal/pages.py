"""What the portal's pages share: the signed-in frame, ARM listings, and the computation's note.

Resources are read from ARM as the signed-in user (``Bridge``); the picture, traces and findings
come from the latest background computation (``computed.Computations``), which every page using
it names with its version ("as of version N, updating…" while a newer one runs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from arclink.portal.computed import Computed
from arclink.portal.html import page

if TYPE_CHECKING:
    from arclink.portal.app import Request, Response


def view(req: Request, title: str, body: str, current: str, live: str = "", status: int = 200) -> Response:
    """A page in the signed-in frame (it takes the session's one message to show)."""
    from arclink.portal.app import html

    s = req.session
    assert s is not None
    return html(page(title, body, current=current, user=s.user, csrf=s.csrf, flash=s.take_flash(), live=live), status)


async def subscriptions(req: Request) -> list[str]:
    assert req.session is not None
    ans = await req.portal.bridge.arm(req.session.token, "GET", "/subscriptions", "Microsoft.Resources")
    subs = [s["subscriptionId"] for s in (ans.body or {}).get("value", [])] if ans.ok else []
    return subs or [req.portal.subscription]


async def list_all(req: Request, provider: str, rtype: str, item: type | None = None) -> list:
    """Every resource of a type in every subscription the user sees (ARM's subscription-wide list, all pages),
    as dicts or, with ``item``, as that struct."""
    assert req.session is not None
    out: list = []
    for sub in await subscriptions(req):
        ans = await req.portal.bridge.list(req.session.token, f"/subscriptions/{sub}/providers/{provider}/{rtype}",
                                           provider, item)
        if ans.ok:
            out += (ans.body or {}).get("value", [])
    return out


CODE_KEY, REASON_KEY = "arclinkConnectivityCode", "arclinkConnectivityReason"  # where ARM shows the gateway's verdict


class Misc(msgspec.Struct, gc=False):
    """The gateway's last verdict on a cluster, as ARM shows it in ``miscellaneousProperties``."""

    code: str | None = msgspec.field(default=None, name=CODE_KEY)
    reason: str | None = msgspec.field(default=None, name=REASON_KEY)


class ClusterProps(msgspec.Struct, gc=False):
    connectivityStatus: str | None = None
    privateLinkState: str | None = None
    privateLinkScopeResourceId: str | None = None
    miscellaneousProperties: Misc | None = None


class ClusterRow(msgspec.Struct, gc=False):
    """What the lists of clusters show of a connectedCluster: a few fields, not the whole document."""

    id: str
    name: str
    location: str | None = None
    properties: ClusterProps | None = None

    @property
    def props(self) -> ClusterProps:
        return self.properties or ClusterProps()

    @property
    def code(self) -> str | None:
        misc = self.props.miscellaneousProperties
        return misc.code if misc is not None else None


async def list_clusters(req: Request) -> list[ClusterRow]:
    """Every connectedCluster the user sees, as ``ClusterRow`` (10,000 of them in milliseconds)."""
    return await list_all(req, "Microsoft.Kubernetes", "connectedClusters", ClusterRow)


async def computed(req: Request) -> Computed | None:
    """The latest computation of the live model (waiting a moment for one under way)."""
    return await req.portal.computations.settle()


def as_of(req: Request, done: Computed | None) -> str:
    """The line saying which version of the live model a page shows, and whether a newer one is coming."""
    comp = req.portal.computations
    if done is None:
        line = ('<p class="asof" data-version="" data-updating="true">Computing the picture, traces and findings '
                "of the live model for the first time…</p>")
    elif comp.updating:
        line = (f'<p class="asof" data-version="{done.version}" data-updating="true">As of version {done.version}, '
                "updating…</p>")
    else:
        line = (f'<p class="asof" data-version="{done.version}" data-updating="false" data-seconds="{done.seconds:.3f}">'
                f"As of version {done.version} (computed in {done.seconds:.1f} s).</p>")
    return f'<div data-live-part="asof" data-live-label="model version">{line}</div>'


__all__ = ["ClusterRow", "as_of", "computed", "list_all", "list_clusters", "subscriptions", "view"]
