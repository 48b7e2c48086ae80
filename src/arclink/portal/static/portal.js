// Live updates over server-sent events: the server says something changed ("change") or the picture,
// traces and findings of a newer model are ready ("ready"); the page fetches what it shows again and
// announces the change in its polite live region. Without script the pages still work.
(function () {
  "use strict";
  var what = document.body.getAttribute("data-live");
  if (!what || !window.EventSource) { return; }
  var status = document.getElementById("live-status");
  var busy = false, again = false;
  function say(text) { if (status && text) { status.textContent = text; } }
  function done() {
    busy = false;
    if (again) { again = false; refresh(); }  // news that came during the fetch: fetch once more
  }
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Portal-Fragment": what } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) { done(); return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var changed = [];
        document.querySelectorAll("[data-live-part]").forEach(function (el) {
          var fresh = doc.querySelector('[data-live-part="' + el.getAttribute("data-live-part") + '"]');
          if (fresh && fresh.innerHTML !== el.innerHTML) {
            var focused = document.activeElement && el.contains(document.activeElement) ? document.activeElement.id : null;
            el.innerHTML = fresh.innerHTML;
            changed.push(el.getAttribute("data-live-label") || "");
            if (focused) { var f = document.getElementById(focused); if (f) { f.focus(); } }
          }
        });
        var news = doc.getElementById("live-news");
        if (changed.length) { say((news && news.textContent) || ("Updated: " + changed.join(", "))); }
        done();
      })
      .catch(function () { done(); });
  }
  var source = new EventSource("/portal/events");
  source.addEventListener("change", refresh);
  source.addEventListener("ready", refresh);
  // The server takes its baseline when the stream opens: what changed between this page's render
  // and then would be missed, so the page fetches once more when (and each time) the stream opens.
  source.addEventListener("open", refresh);
})();
