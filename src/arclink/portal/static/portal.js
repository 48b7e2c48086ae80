// Live updates over server-sent events: the server says something changed, the page fetches what it
// shows again and announces the change in its polite live region. Without script the pages still work.
(function () {
  "use strict";
  var what = document.body.getAttribute("data-live");
  if (!what || !window.EventSource) { return; }
  var status = document.getElementById("live-status");
  var busy = false;
  function say(text) { if (status && text) { status.textContent = text; } }
  function refresh() {
    if (busy) { return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Portal-Fragment": what } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        busy = false;
        if (html === null) { return; }
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
      })
      .catch(function () { busy = false; });
  }
  var source = new EventSource("/portal/events");
  source.addEventListener("change", refresh);
  // The server takes its baseline when the stream opens: what changed between this page's render
  // and then would be missed, so the page fetches once more when (and each time) the stream opens.
  source.addEventListener("open", refresh);
})();
