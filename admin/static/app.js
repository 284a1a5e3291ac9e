// citybot admin: live updates over server-sent events. Regions marked with
// data-live-src are re-fetched (as server-rendered HTML fragments) when an
// event concerning them arrives; no inline script, no framework.
(function () {
  "use strict";
  // --- The reply box of a case ---
  var reply = document.getElementById("reply");
  var replyForm = document.getElementById("reply-form");
  function insertText(text) {
    if (!reply || !text) return;
    var start = reply.selectionStart, end = reply.selectionEnd, v = reply.value;
    if (typeof start === "number" && document.activeElement === reply) {
      reply.value = v.slice(0, start) + text + v.slice(end);
      reply.selectionStart = reply.selectionEnd = start + text.length;
    } else {
      reply.value = v ? v.replace(/\s+$/, "") + "\n\n" + text : text;
    }
    reply.dispatchEvent(new Event("input", { bubbles: true }));
    reply.focus();
  }
  // The picker: typing filters the list, Enter or "Einfügen" inserts.
  var picker = document.getElementById("picker");
  if (picker && reply) {
    var q = document.getElementById("pick-q"), sel = document.getElementById("pick");
    var norm = function (s) { return s.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/ß/g, "ss"); };
    var filter = function () {
      var words = norm(q.value).split(/\s+/).filter(Boolean), first = null;
      Array.prototype.forEach.call(sel.options, function (o) {
        if (!o.value) return;
        var hay = norm(o.textContent + " " + (o.getAttribute("data-text") || ""));
        var ok = words.every(function (w) { return hay.indexOf(w) >= 0; });
        o.hidden = !ok;
        o.disabled = !ok;
        if (ok && !first) first = o;
      });
      if (first) sel.value = first.value; else sel.value = "";
    };
    q.addEventListener("input", filter);
    var insertChosen = function () {
      var o = sel.options[sel.selectedIndex];
      if (!o || !o.value) return false;
      insertText(o.getAttribute("data-text") || "");
      return true;
    };
    q.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); filter(); insertChosen(); }
      if (e.key === "ArrowDown") { e.preventDefault(); sel.focus(); }
    });
    picker.addEventListener("submit", function (e) { e.preventDefault(); insertChosen(); });
  }
  if (replyForm && reply) {
    var key = replyForm.getAttribute("data-draft-key");
    var err = document.getElementById("reply-error");
    var store = null;
    try { store = window.localStorage; } catch (_) { store = null; }
    // Drafts are kept per case in this browser until they are sent.
    if (store && key) {
      if (!reply.value && store.getItem(key)) reply.value = store.getItem(key);
      var t = 0;
      reply.addEventListener("input", function () {
        window.clearTimeout(t);
        t = window.setTimeout(function () {
          if (reply.value.trim()) store.setItem(key, reply.value); else store.removeItem(key);
        }, 300);
      });
    }
    reply.addEventListener("input", function () {
      if (err && !err.hidden && reply.value.trim()) { err.hidden = true; reply.removeAttribute("aria-invalid"); }
    });
    // Ctrl+Enter (Cmd+Enter) sends.
    reply.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        replyForm.requestSubmit(document.getElementById("send"));
      }
    });
    // An empty reply stays here with a message instead of a round trip.
    replyForm.addEventListener("submit", function (e) {
      var files = document.getElementById("attachments");
      if (!reply.value.trim() && !(files && files.files && files.files.length)) {
        e.preventDefault();
        if (err) { err.textContent = reply.getAttribute("data-empty-msg"); err.hidden = false; }
        reply.setAttribute("aria-invalid", "true");
        reply.focus();
        return;
      }
      if (store && key) store.removeItem(key);
    });
  }
  // The transcript scrolls in its own box; show the latest messages.
  var box = document.querySelector(".transcript-box");
  function toBottom() { if (box) box.scrollTop = box.scrollHeight; }
  toBottom();

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
        if (region === box) toBottom();
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
  es.addEventListener("open", function () {
    // Events between rendering and (re)connecting may be missed: refresh once.
    document.body.setAttribute("data-live", "on");
    regions.forEach(schedule);
  });
  es.addEventListener("error", function () { document.body.setAttribute("data-live", "off"); });

})();
