// citybot admin, news channels: live progress of posts. Every element with
// data-progress-src polls that JSON endpoint every 2 s and fills its
// data-field children (fields "<name>_text" win over "<name>"); polling
// stops when the post is done. No inline script, no framework.
(function () {
  "use strict";
  var regions = document.querySelectorAll("[data-progress-src]");
  if (!regions.length || !window.fetch) return;
  var INTERVAL = 2000;

  function fill(region, data) {
    region.querySelectorAll("[data-field]").forEach(function (el) {
      var name = el.getAttribute("data-field");
      var v = data[name];
      if (v === undefined || v === null) return;
      var text = String(v);
      if (el.textContent !== text) el.textContent = text;
      if (name === "status_text") el.setAttribute("data-status", data.status);
    });
    var bar = region.querySelector("progress");
    if (bar) { bar.value = data.percent; bar.textContent = data.percent + " %"; }
    region.setAttribute("data-status", data.status);
    region.setAttribute("data-done", data.done ? "true" : "false");
    if (data.done) {
      // Nothing left to cancel.
      document.querySelectorAll("[data-while-sending]").forEach(function (el) { el.hidden = true; });
    }
  }

  function poll(region) {
    var src = region.getAttribute("data-progress-src");
    fetch(src, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (data) {
        fill(region, data);
        region.setAttribute("data-refreshed", String(Date.now()));
        if (!data.done) window.setTimeout(function () { poll(region); }, INTERVAL);
      })
      .catch(function () { window.setTimeout(function () { poll(region); }, INTERVAL * 2); });
  }

  regions.forEach(function (region) {
    if (region.getAttribute("data-done") === "true") return;
    window.setTimeout(function () { poll(region); }, INTERVAL);
  });
})();
