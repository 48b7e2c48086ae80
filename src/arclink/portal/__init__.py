"""The portal: the page's portal steps in a browser, and a picture of every cluster's path.

Served under ``/portal/`` on the emulator's HTTPS port by ``with_portal(upstream, Portal(...))``,
which composition (``arclink.stack``) puts in front of the token service and ARM. The portal
reads and writes only through ``upstream``, the emulator's own ASGI app, calling ARM in-process
with the signed-in user's bearer token (``bridge.Bridge``): no second code path to the engine.
The picture, traces and findings come from the live model the same engine publishes.
Static files ship in the package (``static/``); nothing is fetched from the internet.
"""

from arclink.portal.app import Portal, with_portal
from arclink.portal.svg import render_svg

__all__ = ["Portal", "render_svg", "with_portal"]
