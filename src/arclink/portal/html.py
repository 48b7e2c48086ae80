"""The portal's page frame and the small HTML helpers the pages share.

Semantic HTML for keyboard and screen-reader users: a skip link, one ``h1`` per page, a labelled
navigation with ``aria-current``, tables with captions and header cells, every control with a
label, and one polite live region (``#live-status``) the page's script announces changes in.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

NAV = (("overview", "Overview", "/portal/"), ("scopes", "Azure Arc Private Link Scopes", "/portal/scopes"),
       ("clusters", "Clusters", "/portal/clusters"), ("findings", "Findings", "/portal/findings"))


def e(value: object) -> str:
    return escape("" if value is None else str(value))


def link(path: str, text: str, **query: str) -> str:
    href = path + ("?" + urlencode(query) if query else "")
    return f'<a href="{e(href)}">{e(text)}</a>'


def resource_link(arm_id: str | None, text: str | None = None) -> str:
    """A link to the portal page of an ARM resource it has one for, else its name."""
    if not arm_id:
        return "-"
    name = text or arm_id.rstrip("/").rsplit("/", 1)[-1]
    low = arm_id.lower()
    for marker, page in (("/microsoft.hybridcompute/privatelinkscopes/", "/portal/scope"),
                         ("/microsoft.network/privateendpoints/", "/portal/endpoint"),
                         ("/microsoft.kubernetes/connectedclusters/", "/portal/cluster")):
        if marker in low and low.split(marker, 1)[1].count("/") == 0:
            return link(page, name, id=arm_id)
    return e(name)


def table(caption: str, heads: list[str], rows: list[list[str]], *, empty: str = "None.", cls: str = "") -> str:
    """A table of already-escaped cells; the first cell of a row is its row header."""
    if not rows:
        return f"<p>{e(caption)}: {e(empty)}</p>"
    th = "".join(f'<th scope="col">{e(h)}</th>' for h in heads)
    body = "".join("<tr>" + "".join((f'<th scope="row">{c}</th>' if i == 0 else f"<td>{c}</td>")
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    return (f'<div class="scroll" tabindex="0" role="region" aria-label="{e(caption)}"><table class="{cls}">'
            f"<caption>{e(caption)}</caption><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>")


def hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{e(name)}" value="{e(value)}">'


def status_badge(status: str | None) -> str:
    s = status or "Unknown"
    return f'<span class="badge st-{e(s.lower())}">{e(s)}</span>'


def page(title: str, body: str, *, current: str = "", user: str = "", csrf: str = "", flash: tuple | None = None,
         live: str = "") -> str:
    """A whole page: ``live`` names what the page's script keeps current over server-sent events."""
    nav = "".join(f'<li><a href="{href}"{" aria-current=page" if key == current else ""}>{e(text)}</a></li>'
                  for key, text, href in NAV)
    who = ""
    if user:
        who = (f'<form method="post" action="/portal/signout" class="who"><span>Signed in as {e(user)}</span>'
               f'{hidden("csrf", csrf)}<button type="submit">Sign out</button></form>')
    note = ""
    if flash:
        kind, text = flash
        note = f'<p class="flash {e(kind)}" role="{"alert" if kind == "error" else "status"}">{e(text)}</p>'
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{e(title)} - arclink portal</title><link rel=\"stylesheet\" href=\"/portal/static/portal.css\">"
            f"<script src=\"/portal/static/portal.js\" defer></script></head><body data-live=\"{e(live)}\">"
            "<a class=\"skip\" href=\"#main\">Skip to content</a>"
            f"<header><p class=\"brand\">arclink portal</p>{who}</header>"
            f"<nav aria-label=\"Portal\"><ul>{nav}</ul></nav>"
            f"<main id=\"main\" tabindex=\"-1\"><h1>{e(title)}</h1>{note}"
            "<div id=\"live-status\" class=\"visually-hidden\" role=\"status\" aria-live=\"polite\"></div>"
            f"{body}</main></body></html>")


def bare_page(title: str, body: str) -> str:
    """A page outside the signed-in frame (sign-in, errors)."""
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{e(title)} - arclink portal</title><link rel=\"stylesheet\" href=\"/portal/static/portal.css\">"
            f"</head><body><main id=\"main\" class=\"narrow\"><h1>{e(title)}</h1>{body}</main></body></html>")
