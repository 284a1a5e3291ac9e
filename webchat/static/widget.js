/* citybot web chat widget.
 *
 * <script src="https://citybot.example/widget.js" data-city-title="Stadt Musterstadt" defer></script>
 *
 * Puts a chat button and panel on the page (data-mode="page" with
 * data-target="ID": the panel opened inside that element). It talks only to
 * the origin it was loaded from, sets no cookie, and keeps the
 * conversation's token in localStorage (only after the first message).
 * Message content is never parsed as HTML into the page: citizen text is
 * text, the bot's answers (Telegram's HTML subset) are rebuilt from a
 * whitelist (b, strong, i, em, u, s, code, pre, a with http(s)/mailto/tel).
 */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || window.__citybotWebchat) { return; }
  window.__citybotWebchat = true;

  var src = new URL(script.src, location.href);
  var api = src.origin + '/chat/api/';
  var storeKey = 'citybot-webchat-token@' + src.origin;
  var pageMode = script.getAttribute('data-mode') === 'page';
  // The privacy notice's address: CITYBOT_PRIVACY_URL, filled in by the
  // server; empty: the built-in notice of this server.
  var privacyURL = "__CITYBOT_PRIVACY_URL__";
  var pageLang = (document.documentElement.getAttribute('lang') || navigator.language || 'de').toLowerCase();
  var lang = pageLang.indexOf('en') === 0 ? 'en' : 'de';
  var T = {
    de: {
      open: 'Chat mit der Stadt', close: 'Schließen', closeLabel: 'Chat schließen',
      label: 'Ihre Nachricht', send: 'Senden', you: 'Sie schreiben:', bot: 'Chatbot antwortet:',
      staff: 'Antwort der Verwaltung:', system: 'Hinweis:', history: 'Gesprächsverlauf',
      intro: 'Stellen Sie Ihre Frage, zum Beispiel „Wie beantrage ich einen Personalausweis?“',
      privacy: 'Datenschutz: Bis zu Ihrer ersten Nachricht speichert dieser Chat nichts und setzt keine Cookies. ' +
        'Ab der ersten Nachricht speichert die Stadt Ihre Nachrichten, um sie zu beantworten, und Ihr Browser ' +
        'eine zufällige Kennung des Gesprächs (im lokalen Speicher, kein Cookie), damit Sie es später fortsetzen können.',
      privacyLink: 'Datenschutzhinweise', newWindow: '(öffnet in neuem Fenster)',
      myData: 'Meine Daten anzeigen', erase: 'Meine Daten löschen',
      marker: 'Neue Nachrichten', unreadMany: 'neue Nachrichten', newFrom: 'Neue Nachricht.',
      offline: 'Die Verbindung ist unterbrochen. Neuer Versuch …',
      failed: 'Die Nachricht konnte nicht gesendet werden. Bitte versuchen Sie es noch einmal.',
      restarted: 'Das frühere Gespräch gibt es nicht mehr; ein neues hat begonnen.',
      working: 'Einen Moment bitte …', human: 'Mit einer Person sprechen',
      unread: 'neue Nachricht', file: 'Datei herunterladen:', fileTooLarge: 'Datei (zu groß für den Web-Chat):'
    },
    en: {
      open: 'Chat with the city', close: 'Close', closeLabel: 'Close chat',
      label: 'Your message', send: 'Send', you: 'You wrote:', bot: 'Chatbot replies:',
      staff: 'Reply from the city:', system: 'Note:', history: 'Conversation',
      intro: 'Ask your question, for example "How do I apply for an ID card?"',
      privacy: 'Privacy: until your first message this chat stores nothing and sets no cookies. ' +
        'From your first message on, the city stores your messages to answer them, and your browser keeps ' +
        'a random identifier of the conversation (in local storage, not a cookie) so that you can continue it later.',
      privacyLink: 'Privacy notice', newWindow: '(opens in a new window)',
      myData: 'Show my data', erase: 'Delete my data',
      marker: 'New messages', unreadMany: 'new messages', newFrom: 'New message.',
      offline: 'The connection was lost. Trying again …',
      failed: 'The message could not be sent. Please try again.',
      restarted: 'The earlier conversation no longer exists; a new one has started.',
      working: 'One moment, please …', human: 'Talk to a person',
      unread: 'new message', file: 'Download file:', fileTooLarge: 'File (too large for the web chat):'
    }
  }[lang];
  var title = script.getAttribute('data-city-title') || T.open;
  if (!/^https?:\/\//i.test(privacyURL)) {
    privacyURL = src.origin + '/chat/datenschutz' + (lang === 'en' ? '?lang=en' : '');
  }

  var token = null;
  try { token = window.localStorage.getItem(storeKey); } catch (e) { token = null; }
  var stored = !!token; // the token is in localStorage
  // The newest event the citizen has seen (the panel open): kept beside
  // the token, for the "new messages" marker after a reload.
  var lastSeen = 0;
  try { lastSeen = Number(window.localStorage.getItem(storeKey + ':seen')) || 0; } catch (e) { lastSeen = 0; }
  var unread = 0;
  var erasures = 0; // erasures seen (a message sent before one does not store the token again)
  // history: the stream is replaying the conversation after a page load
  // (until the server's caught-up event): shown, not announced.
  var history = false;
  var lastId = 0;
  var streaming = false;
  var abort = null;
  var retryDelay = 1000;
  var pending = null; // {text, id}: a message being sent, resent with the same id

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text != null) { e.textContent = text; }
    return e;
  }
  function uid() {
    var a = new Uint8Array(12);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  // The DOM.
  var root = el('div', 'cbw' + (pageMode ? ' cbw-page' : ''));
  root.setAttribute('lang', lang);
  // The style sheet comes from citybot's origin too (the host page does
  // not need to link it); hidden until it is there, so that the page
  // never shows the widget unstyled.
  var cssURL = src.origin + '/widget.css';
  if (!Array.prototype.some.call(document.querySelectorAll('link[rel~="stylesheet"]'), function (l) { return l.href === cssURL; })) {
    var css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = cssURL;
    root.hidden = true;
    css.addEventListener('load', function () { root.hidden = false; });
    css.addEventListener('error', function () { root.hidden = false; });
    (document.head || document.documentElement).appendChild(css);
  }
  // Announcements for screen readers: new messages, also while the panel
  // is closed (a live region outside the panel, never hidden).
  var announcer = el('div', 'cbw-sr');
  announcer.setAttribute('role', 'status');
  announcer.setAttribute('aria-live', 'polite');
  announcer.className = 'cbw-sr cbw-announce';
  root.appendChild(announcer);
  var n = Math.floor(Math.random() * 1e9).toString(36);
  var launcher = null;
  if (!pageMode) {
    launcher = el('button', 'cbw-launcher', title);
    launcher.type = 'button';
    launcher.setAttribute('aria-expanded', 'false');
    launcher.setAttribute('aria-controls', 'cbw-panel-' + n);
    root.appendChild(launcher);
  }
  var panel = el('section', 'cbw-panel');
  panel.id = 'cbw-panel-' + n;
  panel.setAttribute('aria-labelledby', 'cbw-title-' + n);
  if (!pageMode) { panel.setAttribute('role', 'dialog'); panel.hidden = true; }
  var head = el('div', 'cbw-head');
  var h = el('h2', null, title);
  h.id = 'cbw-title-' + n;
  head.appendChild(h);
  var closeBtn = null;
  if (!pageMode) {
    closeBtn = el('button', 'cbw-close', T.close);
    closeBtn.type = 'button';
    closeBtn.setAttribute('aria-label', T.closeLabel);
    head.appendChild(closeBtn);
  }
  panel.appendChild(head);
  panel.appendChild(el('p', 'cbw-intro', T.intro));
  var log = el('div', 'cbw-log');
  // The log is not live itself: the announcer speaks new messages once
  // (and not the history replayed after a reload).
  log.setAttribute('role', 'log');
  log.setAttribute('aria-live', 'off');
  log.setAttribute('aria-label', T.history);
  log.tabIndex = 0;
  panel.appendChild(log);
  var status = el('p', 'cbw-status');
  status.setAttribute('role', 'status');
  panel.appendChild(status);
  var form = el('form', 'cbw-form');
  var label = el('label', null, T.label);
  label.htmlFor = 'cbw-input-' + n;
  var input = el('textarea');
  input.id = 'cbw-input-' + n;
  input.rows = 2;
  input.setAttribute('autocomplete', 'off');
  var sendBtn = el('button', 'cbw-send', T.send);
  sendBtn.type = 'submit';
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(sendBtn);
  // "Talk to a person": /mitarbeiter, shown in the transcript with the
  // button's text.
  var humanBtn = el('button', 'cbw-human', T.human);
  humanBtn.type = 'button';
  form.appendChild(humanBtn);
  panel.appendChild(form);
  // The privacy notice, before the first message; after it a line with the
  // notice's link and the citizen's data: export (/meinedaten) and erasure
  // (/loeschen, with the bot's confirmation buttons).
  var privacy = el('div', 'cbw-privacy');
  var privacyText = el('p', 'cbw-privacy-text', T.privacy);
  privacy.appendChild(privacyText);
  var privacyRow = el('div', 'cbw-privacy-row');
  var pl = el('a', null, T.privacyLink);
  pl.href = privacyURL;
  pl.target = '_blank';
  pl.rel = 'noopener noreferrer';
  pl.appendChild(el('span', 'cbw-sr', ' ' + T.newWindow));
  privacyRow.appendChild(pl);
  function commandButton(label, command) {
    var b = el('button', 'cbw-link', label);
    b.type = 'button';
    b.addEventListener('click', function () {
      b.disabled = true;
      send({ text: command, label: label, client_id: uid() }).then(function () {
        b.disabled = false;
        input.focus();
      });
    });
    privacyRow.appendChild(b);
    return b;
  }
  var dataBtns = [commandButton(T.myData, '/meinedaten'), commandButton(T.erase, '/loeschen')];
  privacy.appendChild(privacyRow);
  panel.insertBefore(privacy, form);
  root.appendChild(panel);
  function showPrivacy() {
    privacyText.hidden = !!token;
    dataBtns.forEach(function (b) { b.hidden = !token; });
  }
  showPrivacy();
  var marker = el('p', 'cbw-marker', T.marker);

  function mount() {
    var target = pageMode && document.getElementById(script.getAttribute('data-target') || '');
    (target || document.body).appendChild(root);
    if (token) { history = true; connect(); }
  }
  if (document.body) { mount(); } else { document.addEventListener('DOMContentLoaded', mount); }

  function isOpen() { return pageMode || !panel.hidden; }
  function open() {
    panel.hidden = false;
    launcher.setAttribute('aria-expanded', 'true');
    log.scrollTop = marker.parentNode ? marker.offsetTop - log.offsetTop : log.scrollHeight;
    seen();
    input.focus();
  }
  function close() {
    panel.hidden = true;
    if (marker.parentNode) { marker.parentNode.removeChild(marker); }
    launcher.setAttribute('aria-expanded', 'false');
    launcher.focus();
  }
  if (launcher) {
    launcher.addEventListener('click', function () { if (panel.hidden) { open(); } else { close(); } });
    closeBtn.addEventListener('click', close);
    panel.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') { e.preventDefault(); close(); }
    });
  }
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) { input.focus(); return; }
    if (!pending || pending.text !== text) { pending = { text: text, id: uid() }; }
    var p = pending;
    send({ text: text, client_id: p.id }).then(function (ok) {
      if (ok && pending === p) { pending = null; input.value = ''; }
      input.focus();
    });
  });
  humanBtn.addEventListener('click', function () {
    humanBtn.disabled = true;
    send({ text: '/mitarbeiter', label: T.human, client_id: uid() }).then(function () {
      humanBtn.disabled = false;
      input.focus();
    });
  });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (form.requestSubmit) { form.requestSubmit(); } else { sendBtn.click(); }
    }
  });

  function setStatus(text) { status.textContent = text || ''; }

  // seen: the open panel shows everything up to lastId (kept for the
  // marker after a reload).
  function seen() {
    if (!isOpen() || history || document.visibilityState === 'hidden') { return; }
    unread = 0;
    showUnread();
    if (lastId > lastSeen) {
      lastSeen = lastId;
      if (stored) { try { window.localStorage.setItem(storeKey + ':seen', String(lastSeen)); } catch (e) { /* kept for this page only */ } }
    }
  }
  document.addEventListener('visibilitychange', seen);
  function showUnread() {
    if (!launcher) { return; }
    launcher.classList.toggle('cbw-unread', unread > 0);
    launcher.textContent = unread > 0 ? title + ' (' + unread + ' ' + (unread === 1 ? T.unread : T.unreadMany) + ')' : title;
  }
  // announce has screen readers read a new message (its sender and text).
  function announce(who, text) {
    var p = el('p', null, T.newFrom + ' ' + who + (text.length > 500 ? text.slice(0, 500) + ' …' : text));
    announcer.appendChild(p);
    while (announcer.childNodes.length > 3) { announcer.removeChild(announcer.firstChild); }
  }

  function send(body, retried) {
    body.lang = lang;
    var gen = erasures;
    var headers = { 'Content-Type': 'application/json' };
    if (token) { headers.Authorization = 'Bearer ' + token; }
    sendBtn.disabled = true;
    return fetch(api + 'messages', {
      method: 'POST', headers: headers, body: JSON.stringify(body), credentials: 'omit', cache: 'no-store'
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (j) {
        if (res.status === 403 && (j.error === 'pow' || j.error === 'pow_handoff') && j.bits > 0 && j.bits <= 32 && !body.pow) {
          // A new conversation, and a message that passes the conversation
          // on to staff (with the server's challenge), bring a proof of
          // work (see solve).
          var challenge = j.error === 'pow_handoff' ? j.challenge : null;
          if (j.error === 'pow_handoff' && !(typeof challenge === 'string' && /^[0-9a-f]{16,64}$/.test(challenge))) {
            setStatus((lang === 'en' ? j.message_en : j.message) || T.failed);
            return false;
          }
          setStatus(T.working);
          return solve(j.bits, challenge, j.time).then(function (p) {
            body.pow = p;
            return send(body, retried);
          });
        }
        if (res.status === 401 && token && !retried) {
          forget();
          setStatus(T.restarted);
          return send(body, true);
        }
        if (!res.ok) {
          setStatus((lang === 'en' ? j.message_en : j.message) || T.failed);
          return false;
        }
        if (!retried) { setStatus(''); }
        if (j.token) {
          token = j.token;
          history = false;
          connect();
        }
        if (token && !stored && gen === erasures) {
          // Stored only now: nothing is kept before the first message (nor
          // after an erasure, unless the citizen writes again).
          try { window.localStorage.setItem(storeKey, token); stored = true; } catch (e) { /* kept for this page only */ }
        }
        showPrivacy();
        return true;
      });
    }).catch(function () {
      setStatus(T.failed);
      return false;
    }).then(function (ok) {
      sendBtn.disabled = false;
      return ok;
    });
  }

  function forget() {
    token = null;
    lastId = 0;
    if (abort) { abort.abort(); }
    unstore();
    while (log.firstChild) { log.removeChild(log.firstChild); }
    showPrivacy();
  }
  function unstore() {
    stored = false;
    lastSeen = 0;
    try { window.localStorage.removeItem(storeKey); window.localStorage.removeItem(storeKey + ':seen'); } catch (e) { /* nothing stored */ }
  }

  // solve finds a proof of work: "salt:time:nonce" (the salt random for a
  // new conversation, the server's challenge for a handoff) whose SHA-256
  // starts with bits zero bits (in slices, so that the page
  // stays responsive). Computed here, without crypto.subtle, which plain
  // http pages lack.
  function solve(bits, challenge, serverTime) {
    var salt = challenge || uid() + uid();
    // The server's time when it gave one: the device's clock may be wrong.
    var ts = typeof serverTime === 'number' && serverTime > 0 ? Math.floor(serverTime) : Math.floor(Date.now() / 1000);
    var nonce = 0;
    return new Promise(function (resolve) {
      (function slice() {
        for (var end = nonce + 4000; nonce < end; nonce++) {
          var s = salt + ':' + ts + ':' + nonce;
          if (Math.clz32(sha256First(s)) >= bits) { resolve(s); return; }
        }
        setTimeout(slice, 0);
      }());
    });
  }

  // SHA-256 (FIPS 180-4) of an ASCII string; only the first 32-bit word
  // of the digest is returned. The constants are the fractional parts of
  // the square and cube roots of the first primes.
  var K = [], H0 = [];
  (function () {
    for (var n = 2, c = 0; c < 64; n++) {
      var prime = true;
      for (var d = 2; d * d <= n; d++) { if (n % d === 0) { prime = false; break; } }
      if (!prime) { continue; }
      if (c < 8) { H0[c] = (Math.pow(n, 1 / 2) % 1) * 4294967296 | 0; }
      K[c++] = (Math.pow(n, 1 / 3) % 1) * 4294967296 | 0;
    }
  }());
  function sha256First(str) {
    var l = str.length, words = [], i, j;
    for (i = 0; i < l; i++) { words[i >> 2] |= str.charCodeAt(i) << ((3 - i % 4) * 8); }
    words[l >> 2] |= 0x80 << ((3 - l % 4) * 8);
    var total = (((l + 8) >> 6) << 4) + 16;
    for (i = 0; i < total; i++) { words[i] = words[i] | 0; }
    words[total - 1] = l * 8;
    var H = H0.slice(), W = new Array(64);
    for (j = 0; j < total; j += 16) {
      var a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
      for (i = 0; i < 64; i++) {
        if (i < 16) {
          W[i] = words[j + i];
        } else {
          var x = W[i - 15], y = W[i - 2];
          W[i] = (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + W[i - 16] +
            (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + W[i - 7] | 0;
        }
        var t1 = h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
          ((e & f) ^ (~e & g)) + K[i] + W[i] | 0;
        var t2 = (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
          ((a & b) ^ (a & c) ^ (b & c)) | 0;
        h = g; g = f; f = e; e = d + t1 | 0; d = c; c = b; b = a; a = t1 + t2 | 0;
      }
      H[0] = H[0] + a | 0; H[1] = H[1] + b | 0; H[2] = H[2] + c | 0; H[3] = H[3] + d | 0;
      H[4] = H[4] + e | 0; H[5] = H[5] + f | 0; H[6] = H[6] + g | 0; H[7] = H[7] + h | 0;
    }
    return H[0];
  }

  // The event stream: fetch + ReadableStream (EventSource cannot send the
  // token in a header), resumed after the last id seen.
  function connect() {
    if (!token || streaming) { return; }
    streaming = true;
    var ctrl = new AbortController();
    abort = ctrl;
    fetch(api + 'events', {
      headers: { 'Authorization': 'Bearer ' + token, 'Last-Event-ID': String(lastId) },
      credentials: 'omit', cache: 'no-store', signal: ctrl.signal
    }).then(function (res) {
      if (res.status === 401) { forget(); return; }
      if (!res.ok || !res.body) { throw new Error('status ' + res.status); }
      retryDelay = 1000;
      if (status.textContent === T.offline) { setStatus(''); }
      var reader = res.body.getReader();
      var dec = new TextDecoder();
      var buf = '';
      function pump() {
        return reader.read().then(function (r) {
          if (r.done) { throw new Error('stream ended'); }
          buf += dec.decode(r.value, { stream: true }).replace(/\r\n/g, '\n');
          var i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            block(buf.slice(0, i));
            buf = buf.slice(i + 2);
          }
          return pump();
        });
      }
      return pump();
    }).catch(function () {
      if (!ctrl.signal.aborted && token) { setStatus(T.offline); }
    }).then(function () {
      streaming = false;
      if (token && !ctrl.signal.aborted) {
        setTimeout(connect, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 30000);
      } else if (token) {
        connect();
      }
    });
  }

  function block(text) {
    var data = '', type = '';
    text.split('\n').forEach(function (line) {
      if (line.indexOf('data:') === 0) { data += line.slice(5).replace(/^ /, ''); }
      if (line.indexOf('event:') === 0) { type = line.slice(6).trim(); }
    });
    if (type === 'caught-up') {
      // The history is shown: from here on new messages are announced.
      history = false;
      seen();
      showUnread();
      return;
    }
    if (!data) { return; }
    var ev;
    try { ev = JSON.parse(data); } catch (e) { return; }
    if (!ev || typeof ev.id !== 'number' || ev.id <= lastId) { return; }
    lastId = ev.id;
    render(ev);
  }

  function render(ev) {
    var p = ev.payload || {};
    if (p.reset) {
      // The citizen's data was erased: the browser forgets it too (the
      // token stays in this page for the erasure's confirmation).
      while (log.firstChild) { log.removeChild(log.firstChild); }
      erasures++;
      unstore();
      unread = 0;
      showUnread();
      return;
    }
    if (p.edit) {
      var target = log.querySelector('[data-event="' + Number(p.edit) + '"]');
      if (target) {
        var old = target.querySelector('.cbw-buttons');
        var hadFocus = old && old.contains(document.activeElement);
        if (old) { old.parentNode.removeChild(old); }
        var nb = buttons(p.buttons, Number(p.edit));
        if (nb) { target.appendChild(nb); }
        if (hadFocus) { input.focus(); }
      }
      return;
    }
    var from = { citizen: 'citizen', bot: 'bot', staff: 'staff' }[ev.from] || 'system';
    var m = el('div', 'cbw-msg cbw-from-' + from);
    m.setAttribute('data-event', String(ev.id));
    m.appendChild(el('span', 'cbw-sr', T[from === 'citizen' ? 'you' : from] + ' '));
    var body = el('span', 'cbw-text');
    if (p.format === 'html' && from !== 'citizen') {
      safeHTML(p.text || '', body);
    } else if (from !== 'citizen') {
      linkify(p.text || '', body);
    } else {
      body.textContent = p.text || '';
    }
    m.appendChild(body);
    if (p.document) { m.appendChild(documentLink(p.document)); }
    var b = buttons(p.buttons, ev.id);
    if (b) { m.appendChild(b); }
    var atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.appendChild(m);
    if (from !== 'citizen' && ev.id > lastSeen && (history || !isOpen() || document.visibilityState === 'hidden')) {
      // Not seen yet: the marker goes before the first such message.
      if (!marker.parentNode) { log.insertBefore(marker, m); }
      unread++;
    }
    if (!history && from !== 'citizen') { announce(m.firstChild.textContent, body.textContent); }
    if (atEnd || from === 'citizen') { log.scrollTop = log.scrollHeight; }
    seen();
    showUnread();
  }

  function buttons(rows, ref) {
    if (!rows || !rows.length) { return null; }
    var box = el('div', 'cbw-buttons');
    rows.forEach(function (row) {
      (row || []).forEach(function (b) {
        if (b.url) {
          if (!/^(https?:|mailto:|tel:)/i.test(b.url)) { return; }
          var a = el('a', null, b.text);
          a.href = b.url;
          a.target = '_blank';
          a.rel = 'noopener noreferrer';
          box.appendChild(a);
          return;
        }
        if (!b.data) { return; }
        var btn = el('button', null, b.text);
        btn.type = 'button';
        btn.addEventListener('click', function () {
          btn.disabled = true;
          send({ data: b.data, label: b.text, ref: ref, client_id: uid() }).then(function () {
            btn.disabled = false;
            input.focus();
          });
        });
        box.appendChild(btn);
      });
    });
    return box.childNodes.length ? box : null;
  }

  function documentLink(d) {
    var wrap = el('span', 'cbw-file');
    if (!d.data) {
      wrap.textContent = ' ' + T.fileTooLarge + ' ' + d.name;
      return wrap;
    }
    var bin = atob(d.data);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
    var a = el('a', null, d.name);
    a.href = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
    a.download = d.name;
    wrap.appendChild(document.createTextNode(' ' + T.file + ' '));
    wrap.appendChild(a);
    return wrap;
  }

  // linkify appends text, its web addresses as links (as Telegram shows
  // them); a trailing punctuation mark stays text.
  var urlRe = /https?:\/\/[^\s<>"„“”]+/g;
  function linkify(text, out) {
    var at = 0, m;
    urlRe.lastIndex = 0;
    while ((m = urlRe.exec(text)) !== null) {
      var url = m[0].replace(/[.,;:!?)\]]+$/, '');
      if (m.index > at) { out.appendChild(document.createTextNode(text.slice(at, m.index))); }
      var a = document.createElement('a');
      a.href = url;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      a.textContent = url;
      out.appendChild(a);
      at = m.index + url.length;
      urlRe.lastIndex = at;
    }
    if (at < text.length) { out.appendChild(document.createTextNode(text.slice(at))); }
  }

  // safeHTML rebuilds Telegram's HTML subset from a whitelist: the text is
  // parsed in an inert document (nothing loads, nothing runs) and only the
  // allowed elements are recreated; everything else becomes its text.
  var allowed = { b: 1, strong: 1, i: 1, em: 1, u: 1, s: 1, code: 1, pre: 1 };
  function safeHTML(html, out) {
    var doc = new DOMParser().parseFromString('<!doctype html><body>' + html, 'text/html');
    copy(doc.body, out);
  }
  function copy(from, to) {
    for (var c = from.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === 3) {
        if (to.closest('a, code, pre')) { to.appendChild(document.createTextNode(c.data)); } else { linkify(c.data, to); }
      } else if (c.nodeType === 1) {
        var tag = c.nodeName.toLowerCase();
        if (allowed[tag]) {
          var e = document.createElement(tag);
          copy(c, e);
          to.appendChild(e);
        } else if (tag === 'a' && /^(https?:|mailto:|tel:)/i.test(c.getAttribute('href') || '')) {
          var a = document.createElement('a');
          a.href = c.getAttribute('href');
          a.target = '_blank';
          a.rel = 'noopener noreferrer';
          copy(c, a);
          to.appendChild(a);
        } else if (tag === 'br') {
          to.appendChild(document.createElement('br'));
        } else {
          copy(c, to);
        }
      }
    }
  }
}());
