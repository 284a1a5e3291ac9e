// citybot admin: live updates over server-sent events. Regions marked with
// data-live-src are re-fetched (as server-rendered HTML fragments) when an
// event concerning them arrives; no inline script, no framework.
(function () {
  "use strict";
  // Insert a chosen canned or FAQ answer into the reply box.
  document.querySelectorAll("[data-insert-into]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var sel = document.getElementById(btn.getAttribute("data-insert-from"));
      var ta = document.getElementById(btn.getAttribute("data-insert-into"));
      if (!sel || !ta || !sel.value) return;
      var opt = sel.options[sel.selectedIndex];
      var text = opt.getAttribute("data-text") || "";
      ta.value = ta.value ? ta.value + "\n\n" + text : text;
      ta.focus();
    });
  });

  var regions = document.querySelectorAll("[data-live-src]");
  if (!regions.length || !window.EventSource) return;
  var live = document.getElementById("live");
  function announce(msg) {
    if (!live || !msg) return;
    live.textContent = "";
    window.setTimeout(function () { live.textContent = msg; }, 50);
  }
  function focusKey(el) {
    if (el.id) return "#" + CSS.escape(el.id);
    var href = el.getAttribute("href");
    if (href) return el.tagName.toLowerCase() + '[href="' + CSS.escape(href) + '"]';
    return "";
  }
  function refresh(region) {
    fetch(region.getAttribute("data-live-src"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        if (html === region.innerHTML) return;
        // Keep keyboard focus where it was (WCAG 2.4.3): the same element
        // in the new content, else the region itself, never the page start.
        var had = region.contains(document.activeElement) ? focusKey(document.activeElement) : undefined;
        region.innerHTML = html;
        if (had !== undefined) {
          var el = had && region.querySelector(had);
          if (!el) { region.setAttribute("tabindex", "-1"); el = region; }
          el.focus();
        }
        region.setAttribute("data-refreshed", String(Date.now()));
        announce(region.getAttribute("data-live-msg"));
      })
      .catch(function () { /* next event or resync tries again */ });
  }
  function matches(region, ev) {
    var id = region.getAttribute("data-live-case");
    return !id || String(ev.case_id) === id;
  }
  var timers = new Map();
  function schedule(region) {
    if (timers.has(region)) return;
    timers.set(region, window.setTimeout(function () { timers.delete(region); refresh(region); }, 150));
  }
  var es = new EventSource("/inbox/events");
  es.addEventListener("case", function (e) {
    var ev;
    try { ev = JSON.parse(e.data); } catch (_) { return; }
    regions.forEach(function (r) { if (matches(r, ev)) schedule(r); });
  });
  es.addEventListener("resync", function () { regions.forEach(schedule); });
  // The session ended (logout, deactivation): stop, no reconnecting.
  es.addEventListener("logout", function () { es.close(); document.body.setAttribute("data-live", "off"); });
  es.addEventListener("open", function () {
    // Events between rendering and (re)connecting may be missed: refresh once.
    document.body.setAttribute("data-live", "on");
    regions.forEach(schedule);
  });
  es.addEventListener("error", function () { document.body.setAttribute("data-live", "off"); });

})();
