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
    var store = null, t = 0, sending = false;
    try { store = window.localStorage; } catch (_) { store = null; }
    // Drafts are kept per case in this browser until they are sent.
    if (store && key) {
      if (!reply.value && store.getItem(key)) reply.value = store.getItem(key);
      reply.addEventListener("input", function () {
        window.clearTimeout(t);
        t = window.setTimeout(function () {
          if (sending) return;
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
      sending = true;
      window.clearTimeout(t);
      if (store && key) store.removeItem(key);
    });
  }
  // The transcript scrolls in its own box; show the latest messages.
  var box = document.querySelector(".transcript-box");
  function toBottom() { if (box) box.scrollTop = box.scrollHeight; }
  toBottom();

  // Copy buttons: data-copy names an input (its value) or a link (its href).
  document.querySelectorAll("[data-copy]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var el = document.getElementById(btn.getAttribute("data-copy"));
      if (!el) return;
      var text = el.value !== undefined && el.tagName === "INPUT" ? el.value : el.getAttribute("href") || el.textContent;
      var done = function () {
        var old = btn.getAttribute("data-label") || btn.innerHTML;
        btn.setAttribute("data-label", old);
        btn.textContent = btn.getAttribute("data-copied") || "OK";
        window.setTimeout(function () { btn.innerHTML = old; }, 2000);
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () { if (el.select) { el.select(); } });
      } else if (el.select) { el.select(); }
    });
  });

  // --- Unsaved changes: long forms warn before their input is left ---
  var guarded = document.querySelectorAll("form[data-unsaved]");
  if (guarded.length) {
    var snapshot = function (f) {
      return Array.prototype.map.call(f.elements, function (el) {
        if (!el.name || el.type === "submit" || el.type === "button" || el.type === "hidden") return "";
        if (el.type === "checkbox" || el.type === "radio") return el.name + "=" + el.checked;
        if (el.type === "file") return el.name + "=" + (el.files ? el.files.length : 0);
        return el.name + "=" + el.value;
      }).join("\u0000");
    };
    var initial = new Map(), leaving = false;
    guarded.forEach(function (f) {
      initial.set(f, f.hasAttribute("data-dirty") ? null : snapshot(f));
      f.addEventListener("submit", function () { leaving = true; });
    });
    window.addEventListener("beforeunload", function (e) {
      if (leaving) return;
      var dirty = false;
      guarded.forEach(function (f) { if (initial.get(f) === null || initial.get(f) !== snapshot(f)) dirty = true; });
      if (dirty) { e.preventDefault(); e.returnValue = ""; }
    });
  }

  // --- Inbox: counts in tabs and title, selection, shortcuts ---
  var caselist = document.getElementById("caselist");
  function updateCounts() {
    var c = document.getElementById("counts"), views = document.querySelector(".views");
    if (!c || !views) return;
    views.querySelectorAll("a[data-view]").forEach(function (a) {
      var n = c.getAttribute("data-" + a.getAttribute("data-view")), span = a.querySelector(".count");
      if (span && n !== null) span.textContent = n;
    });
    var w = parseInt(c.getAttribute("data-waiting") || "0", 10), base = views.getAttribute("data-base-title");
    document.title = (w > 0 ? "(" + w + ") " : "") + base;
  }
  function selected() { return caselist ? caselist.querySelectorAll('input[name="ids"]:checked') : []; }
  var bulkCount = document.getElementById("bulk-count");
  function updateBulk() {
    if (bulkCount) bulkCount.textContent = selected().length ? bulkCount.ownerDocument.documentElement.lang === "en" ? selected().length + " selected" : selected().length + " ausgewählt" : "";
  }
  if (caselist) caselist.addEventListener("change", updateBulk);
  function rows() { return caselist ? Array.prototype.slice.call(caselist.querySelectorAll("tr[data-case]")) : []; }
  function currentRow() { return caselist && caselist.querySelector("tr.current"); }
  function setCurrent(tr) {
    rows().forEach(function (r) { r.classList.remove("current"); });
    if (!tr) return;
    tr.classList.add("current");
    var a = tr.querySelector("td.subj a") || tr.querySelector("a");
    if (a) a.focus();
  }
  var dlg = document.getElementById("shortcuts");
  var opener = document.getElementById("shortcuts-open");
  function help() { if (dlg && dlg.showModal && !dlg.open) dlg.showModal(); }
  if (opener) opener.addEventListener("click", help);
  var pendingG = false;
  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target, tag = t && t.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (t && t.isContentEditable) || (dlg && dlg.open)) return;
    var k = e.key;
    if (pendingG) {
      pendingG = false;
      if (k === "i") { e.preventDefault(); window.location.href = "/inbox"; }
      return;
    }
    if (k === "?") { e.preventDefault(); help(); return; }
    if (k === "g") { pendingG = true; return; }
    if (caselist) {
      var rs = rows(), cur = currentRow(), i = rs.indexOf(cur);
      if (!cur && document.activeElement) { var tr = document.activeElement.closest && document.activeElement.closest("tr[data-case]"); if (tr) { cur = tr; i = rs.indexOf(tr); } }
      if (k === "j" || k === "k") {
        e.preventDefault();
        if (!rs.length) return;
        i = k === "j" ? Math.min(rs.length - 1, i + 1) : Math.max(0, i < 0 ? 0 : i - 1);
        setCurrent(rs[i]);
      } else if ((k === "o" || k === "r") && cur) {
        e.preventDefault();
        window.location.href = "/cases/" + cur.getAttribute("data-case") + (k === "r" ? "#reply" : "");
      } else if (k === "x" && cur) {
        e.preventDefault();
        var cb = cur.querySelector('input[name="ids"]');
        if (cb) { cb.checked = !cb.checked; updateBulk(); }
      } else if (k === "/") {
        var q = document.getElementById("q");
        if (q) { e.preventDefault(); q.focus(); }
      }
      return;
    }
    if (reply && k === "r") { e.preventDefault(); reply.focus(); return; }
    if (k === "e") {
      var sc = document.getElementById("send-close"), cl = document.getElementById("close");
      if (reply && reply.value.trim() && sc) { e.preventDefault(); replyForm.requestSubmit(sc); }
      else if (cl && window.confirm(cl.getAttribute("data-confirm") || cl.textContent)) { e.preventDefault(); cl.form.requestSubmit(cl); }
    }
  });
  if (reply && window.location.hash === "#reply") reply.focus();

  // Optional desktop notifications of new cases (opt-in, per browser).
  var notifyBtn = document.getElementById("notify-toggle");
  var notifyKey = "citybot.notify";
  function notifyOn() { try { return window.localStorage.getItem(notifyKey) === "1"; } catch (_) { return false; } }
  if (notifyBtn && window.Notification) {
    notifyBtn.hidden = false;
    var label = function () {
      notifyBtn.textContent = notifyBtn.getAttribute(notifyOn() ? "data-label-off" : "data-label-on");
      notifyBtn.setAttribute("aria-pressed", notifyOn() ? "true" : "false");
    };
    label();
    notifyBtn.addEventListener("click", function () {
      if (notifyOn()) { window.localStorage.removeItem(notifyKey); label(); return; }
      Promise.resolve(Notification.permission === "granted" ? "granted" : Notification.requestPermission()).then(function (p) {
        if (p === "granted") window.localStorage.setItem(notifyKey, "1");
        label();
      });
    });
  }
  function notifyNew(ev) {
    if (!caselist || !notifyOn() || !window.Notification || Notification.permission !== "granted" || !document.hidden) return;
    if (ev.kind !== "opened" && ev.kind !== "transferred" && ev.kind !== "message") return;
    try { new Notification(caselist.getAttribute("data-notify-msg") || "", { body: "#" + ev.case_id, tag: "case-" + ev.case_id }); } catch (_) { /* not allowed here */ }
  }

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
        // Keep the chosen rows and the current row of the inbox.
        var checked = Array.prototype.map.call(region.querySelectorAll('input[name="ids"]:checked'), function (c) { return c.value; });
        var cur = region.querySelector("tr.current");
        cur = cur && cur.getAttribute("data-case");
        region.innerHTML = html;
        checked.forEach(function (v) { var c = region.querySelector('input[name="ids"][value="' + CSS.escape(v) + '"]'); if (c) c.checked = true; });
        if (cur) { var tr = region.querySelector('tr[data-case="' + CSS.escape(cur) + '"]'); if (tr) tr.classList.add("current"); }
        if (region === caselist) { updateCounts(); updateBulk(); }
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
    notifyNew(ev);
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
