/*
 * Judging in the browser: the judgment in progress (the draft) and the outbox of judgments
 * not yet acknowledged by the server, both kept in localStorage so that nothing the
 * researcher did is lost to a reload, a failed request or a server restart.
 *
 * Clicks and keys change the draft at once, in order, without a server round trip; Dash
 * only renders it (window.dash_clientside.steer.renderDraft). Submitting moves the draft's
 * judgment into the outbox, which is sent to /api/feedback one request at a time, oldest
 * first; each judgment carries a key of its own, so a retry never stores it twice.
 *
 * What only the browser sees (each judgment's decision time, page views, retries, undos)
 * goes to the session's trace through /api/trace: batched, best-effort, never in the way
 * of judging. Trace events live in memory only; a batch the server cannot take is dropped.
 */
(function () {
  "use strict";

  // Component ids come from dashboard/ids.py, which the page renders as window.STEER_IDS.
  const IDS = window.STEER_IDS;
  const DRAFTS = "steer.drafts.v1";
  const OUTBOX = "steer.outbox.v1";
  // The draft each judgment was made from (by its key), for Undo judgment to bring back.
  const SUBMITTED = "steer.submitted.v1";
  const TAB = Math.random().toString(36).slice(2, 8);
  let counter = 0;
  let sending = false;
  let retryTimer = null;
  let lastError = null;
  let lastStored = null;
  const undoStack = [];

  // --- storage -------------------------------------------------------------------------
  function read(key, fallback) {
    try {
      const text = window.localStorage.getItem(key);
      return text ? JSON.parse(text) : fallback;
    } catch (error) {
      return fallback;
    }
  }
  function write(key, value) {
    window.localStorage.setItem(key, JSON.stringify(value));
  }

  // --- the round on screen ---------------------------------------------------------------
  function grid() {
    const element = document.querySelector(".candidate-grid");
    if (!element) return null;
    const info = {
      session: element.dataset.session,
      round: Number(element.dataset.round),
      latest: element.dataset.latest === "true",
      mode: element.dataset.mode,
      candidates: JSON.parse(element.dataset.candidates),
      // A funnel round: how many candidates it lets one keep (0: not a funnel round).
      keepLimit: Number(element.dataset.keepLimit || 0),
    };
    noteShown(info);
    return info;
  }
  function keyOf(info) {
    return info.session + ":" + info.round;
  }
  function emptyDraft(info) {
    return {
      key: keyOf(info), mode: info.mode, k: info.candidates.length,
      winner: null, ratings: {}, order: [], approved: [], rejected: [], pair: [],
      selected: [], focus: 0, choice: null,
      confidence: 1, tags: [], text: "", reason: "", started: Date.now(),
    };
  }
  function loadDraft() {
    const info = grid();
    if (!info) return null;
    const drafts = read(DRAFTS, {});
    const draft = drafts[keyOf(info)] || emptyDraft(info);
    draft.mode = info.mode;  // the mode switch may have changed it
    draft.k = info.candidates.length;
    draft.keepLimit = info.keepLimit;
    return draft;
  }
  function saveDraft(draft) {
    const drafts = read(DRAFTS, {});
    drafts[draft.key] = draft;
    // Keep the drafts of the 50 most recent rounds only.
    const keys = Object.keys(drafts);
    if (keys.length > 50) delete drafts[keys[0]];
    write(DRAFTS, drafts);
  }
  function publish(draft) {
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props(IDS.DRAFT, {data: draft});
    }
  }
  // Each set_props runs Dash's callback machinery over the page (a few ms on a 12-round
  // page): what the page already shows is not sent again, so that a judgment's
  // acknowledgment does not wait behind renders that change nothing.
  let publishedOutbox = null;
  function publishOutbox() {
    if (window.dash_clientside && window.dash_clientside.set_props) {
      const data = {pending: read(OUTBOX, []).length, sending: sending, error: lastError,
                    stored: lastStored};
      const text = JSON.stringify(data);
      if (text === publishedOutbox) return;
      publishedOutbox = text;
      window.dash_clientside.set_props(IDS.OUTBOX, {data: data});
    }
  }
  // Messages whose cause the researcher's next valid change fixes: they go with it.
  const STALE_KINDS = ["incomplete", "refused", "hint"];
  function change(update) {
    const draft = loadDraft();
    if (!draft) return;
    const before = JSON.stringify(draft);
    const refusal = update(draft);
    if (typeof refusal === "string") {
      // Refused (e.g. a funnel stage's limit): the draft stays as it was, the page says why.
      lastError = {kind: "refused", message: refusal};
      publishOutbox();
      return;
    }
    undoStack.push(before);
    if (undoStack.length > 200) undoStack.shift();
    saveDraft(draft);
    publish(draft);
    clearStale();
  }
  function clearStale() {
    if (lastError && STALE_KINDS.includes(lastError.kind)) {
      lastError = null;
      publishOutbox();
    }
    // A refusal of the round's toolbar (e.g. the funnel's "no judgment yet") is stale too.
    const message = document.getElementById(IDS.ROUND_MESSAGE);
    const set = window.dash_clientside && window.dash_clientside.set_props;
    if (set && message && message.querySelector(".alert-warning, .alert-danger"))
      set(IDS.ROUND_MESSAGE, {children: null});
  }
  // The values the whole-round controls show, as last set here or reported by setFields.
  let shownFields = {};
  function syncFields(draft) {
    // The whole-round controls (Dash components) show the draft's values; only the ones
    // that differ are set (each set runs setFields and a render of the draft again).
    const set = window.dash_clientside && window.dash_clientside.set_props;
    if (!set || !draft) return;
    const values = {
      [IDS.CONFIDENCE]: draft.confidence ?? 1,
      [IDS.CRITIQUE_TAGS]: draft.tags || [],
      [IDS.CRITIQUE_TEXT]: draft.text || "",
      [IDS.REJECT_REASON]: draft.reason || "",
    };
    for (const [id, value] of Object.entries(values)) {
      if (JSON.stringify(shownFields[id]) === JSON.stringify(value)) continue;
      shownFields[id] = value;
      set(id, {value: value});
    }
  }
  function toggle(list, value) {
    const at = list.indexOf(value);
    if (at >= 0) list.splice(at, 1); else list.push(value);
  }

  // A rank in words (1st, 2nd, 3rd, 11th, 21st): "#1" read as a candidate's number.
  function ordinal(place) {
    const teen = place % 100 >= 10 && place % 100 <= 20;
    const suffix = teen ? "th" : ({1: "st", 2: "nd", 3: "rd"}[place % 10] || "th");
    return place + suffix;
  }

  // --- what each click or key does to the draft ------------------------------------------
  function pick(draft, slot, shift) {
    if (slot < 0 || slot >= draft.k) return;
    draft.focus = slot;
    if (shift) { toggle(draft.selected, slot); return; }
    if (draft.mode === "winner") draft.winner = draft.winner === slot ? null : slot;
    else if (draft.mode === "ranking") {
      const at = draft.order.indexOf(slot);
      if (at >= 0) draft.order.splice(at);
      else if (overLimit(draft, draft.order)) return overLimit(draft, draft.order);
      else draft.order.push(slot);
    } else if (draft.mode === "pairwise") {
      if (draft.pair.includes(slot)) draft.pair = draft.pair.filter((s) => s !== slot);
      else { draft.pair.push(slot); if (draft.pair.length > 2) draft.pair.shift(); }
      draft.choice = null;
    } else if (draft.mode === "approve_reject") {
      return approve(draft, slot, "approved");
    } else if (draft.mode === "critique") {
      draft.winner = draft.winner === slot ? null : slot;  // the image the critique is about
    }
  }
  // A funnel stage keeps at most draft.keepLimit candidates: the refusal's words, or null.
  function overLimit(draft, kept) {
    if (!draft.keepLimit || kept.length < draft.keepLimit) return null;
    return "this funnel stage keeps at most " + draft.keepLimit + " (" + kept.length +
      " kept): take one back before keeping another";
  }
  function approve(draft, slot, list) {
    const other = list === "approved" ? "rejected" : "approved";
    if (list === "approved" && !draft.approved.includes(slot) && overLimit(draft, draft.approved))
      return overLimit(draft, draft.approved);
    draft[other] = draft[other].filter((s) => s !== slot);
    toggle(draft[list], slot);
    return null;
  }
  function rate(draft, slot, stars) {
    draft.focus = slot;
    if (draft.ratings[slot] === stars) delete draft.ratings[slot];
    else draft.ratings[slot] = stars;
  }

  // --- from draft to the raw judgment the server validates -------------------------------
  function rawJudgment(draft, info, action) {
    const id = (slot) => info.candidates[slot];
    let raw = null;
    if (action === "reject-all") raw = {mode: "reject_all", reason: draft.reason || ""};
    else if (action === "cannot-decide") {
      raw = {mode: "cannot_decide"};
      const between = draft.selected.length >= 2 ? draft.selected : draft.pair;
      if (between.length >= 2) raw.between = between.map(id);
    } else if (action === "critique" || draft.mode === "critique") {
      // Neither tag nor note (as after a critique was sent): nothing the server would take.
      const tags = draft.tags || [];
      const text = draft.text || "";
      if (tags.length || text.trim()) {
        raw = {mode: "critique", tags: tags, text: text};
        if (draft.winner !== null) raw.candidate = id(draft.winner);
      }
    } else if (draft.mode === "winner" && draft.winner !== null) {
      raw = {mode: "winner", winner: id(draft.winner)};
    } else if (draft.mode === "rating" && Object.keys(draft.ratings).length) {
      raw = {mode: "rating", ratings: {}};
      for (const [slot, stars] of Object.entries(draft.ratings)) raw.ratings[id(+slot)] = stars;
    } else if (draft.mode === "ranking" && draft.order.length) {
      raw = {mode: "ranking", order: draft.order.map(id)};
    } else if (draft.mode === "pairwise" && draft.pair.length === 2 && draft.choice) {
      raw = {mode: "pairwise", first: id(draft.pair[0]), second: id(draft.pair[1]),
             choice: draft.choice};
    } else if (draft.mode === "approve_reject" &&
               (draft.approved.length || draft.rejected.length)) {
      raw = {mode: "approve_reject", approved: draft.approved.map(id),
             rejected: draft.rejected.map(id)};
    }
    if (raw === null) return null;
    raw.confidence = Number(draft.confidence ?? 1);
    raw.decision_seconds = Math.round((Date.now() - draft.started) / 100) / 10;
    return raw;
  }
  // Whether a judgment may start the next round by itself (with the switch on): not on a
  // past round; not in a funnel round, whose next round is the funnel's next stage; not for
  // one pair of a round of more than two, whose other pairs are still there to compare.
  function advances(info, raw) {
    if (!info.latest || info.keepLimit) return false;
    return !(raw.mode === "pairwise" && info.candidates.length > 2);
  }
  function missing(draft, action) {
    if (action === "critique") return "give a tag or a note first";
    return {
      winner: "pick the best image first",
      rating: "rate at least one image first",
      ranking: "click at least one image first",
      pairwise: draft.pair.length < 2 ? "pick two images first" : "say which is better",
      approve_reject: "approve or reject at least one image first",
      critique: "give a tag or a note first",
    }[draft.mode] || "nothing to submit yet";
  }

  function submit(action) {
    const info = grid();
    const draft = loadDraft();
    if (!info || !draft) return;
    const raw = rawJudgment(draft, info, action);
    if (raw === null) {
      lastError = {kind: "incomplete", message: missing(draft, action)};
      publishOutbox();
      return;
    }
    const autoAdvance = document.getElementById(IDS.AUTO_ADVANCE);
    const item = {
      key: TAB + "-" + Date.now().toString(36) + "-" + (counter++),
      session_id: info.session, round_index: info.round, raw: raw,
      advance: Boolean(autoAdvance && autoAdvance.checked && advances(info, raw)),
    };
    const outbox = read(OUTBOX, []);
    outbox.push(item);
    write(OUTBOX, outbox);  // durable in the browser before anything else happens
    const submitted = read(SUBMITTED, {});
    submitted[item.key] = draft;
    const kept = Object.keys(submitted);
    if (kept.length > 50) delete submitted[kept[0]];
    write(SUBMITTED, submitted);
    trace(info.session, "judgment", {
      mode: raw.mode, round_index: info.round, client_key: item.key,
      // A draft restored from an earlier visit has no showing: its age stands in, capped
      // at the week the server accepts.
      decision_ms: Math.min(Math.max(0, Date.now() - (shownAt[keyOf(info)] || draft.started)),
                            7 * 24 * 3600 * 1000),
    });
    // A critique beside the mode's judgment clears only itself; anything else starts over.
    const keepPicks = raw.mode === "critique" && draft.mode !== "critique";
    const fresh = keepPicks ? Object.assign({}, draft, {tags: [], text: ""}) : emptyDraft(info);
    fresh.confidence = draft.confidence;
    saveDraft(fresh);
    publish(fresh);
    syncFields(fresh);
    undoStack.length = 0;
    if (lastError && lastError.kind === "incomplete") lastError = null;
    flush();
  }

  // --- the outbox: one request at a time, oldest first ------------------------------------
  async function flush() {
    if (sending) return;
    const outbox = read(OUTBOX, []).filter((item) => !item.invalid);
    if (!outbox.length) { publishOutbox(); return; }
    if (failedAttempts) trace(outbox[0].session_id, "retry",
                              {attempt: failedAttempts, error_kind: failedKind});
    sending = true;
    publishOutbox();
    let reply = null;
    try {
      const response = await fetch("/api/feedback", {
        method: "POST",
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({items: outbox.slice(0, 100)}),
      });
      reply = await response.json();
    } catch (error) {
      reply = {ok: false, kind: "transient", acked: [], unreachable: true,
               message: "the dashboard server is not reachable; your judgments are kept"};
    }
    sending = false;
    const acked = new Set(reply.acked || []);
    let remaining = read(OUTBOX, []).filter((item) => !acked.has(item.key));
    if (acked.size) lastStored = {count: acked.size, at: Date.now(), events: reply.events};
    if (reply.ok) {
      lastError = null;
      failedAttempts = 0;
      scheduleTrace(0);  // the server is there: send what the trace holds now
    } else {
      lastError = {kind: reply.kind, message: reply.message};
      if (reply.kind !== "invalid input") { failedAttempts++; failedKind = reply.kind; }
      if (reply.kind === "invalid input") {
        // Retrying cannot help: keep it, marked, until the researcher discards it.
        remaining = remaining.map((item) =>
          item.key === reply.failed ? {...item, invalid: reply.message} : item);
      } else if (!reply.unreachable) {
        scheduleRetry();  // the server answered but could not store: try again soon
      }  // unreachable: the connection's probe sends the outbox when the server is back
    }
    write(OUTBOX, remaining);
    if (reply.job_id && window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props(IDS.JOB, {data: {id: reply.job_id, status: "queued"}});
    }
    publishOutbox();
    const waiting = remaining.some((item) => !item.invalid);
    if (reply.ok && waiting) flush();
    else if (funnelWaiting && reply.ok) requestFunnel();
    else if (funnelWaiting && reply.kind === "invalid input") funnelWaiting = false;
  }

  // --- the draft funnel's next stage: the judgment on screen is stored first --------------
  let funnelWaiting = false;
  function funnelNext() {
    const info = grid();
    const draft = loadDraft();
    if (info && draft && rawJudgment(draft, info, null) !== null) {
      funnelWaiting = true;
      submit(null);  // its acknowledgment asks for the next stage (flush)
    } else if (read(OUTBOX, []).some((item) => !item.invalid)) {
      funnelWaiting = true;
      flush();
    } else requestFunnel();
  }
  function requestFunnel() {
    funnelWaiting = false;
    const set = window.dash_clientside && window.dash_clientside.set_props;
    if (set) set(IDS.FUNNEL_REQUEST, {data: {at: Date.now()}});
  }
  let retryDelay = 1000;
  function scheduleRetry() {
    if (retryTimer) return;
    retryTimer = setTimeout(() => { retryTimer = null; flush(); }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 15000);
  }
  function retryNow() {
    retryDelay = 1000;
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
    flush();
  }
  function discardInvalid() {
    write(OUTBOX, read(OUTBOX, []).filter((item) => !item.invalid));
    lastError = null;
    publishOutbox();
  }

  // Undo judgment: withdraw the session's last stored judgment (the button says which). The
  // server discards any round planned from it and cancels the one being made; the page goes
  // back to the judged round with the draft the judgment was made from.
  async function undoJudgment() {
    const info = grid();
    if (!info) return;
    const waiting = read(OUTBOX, []).filter((item) => !item.invalid && item.session_id === info.session);
    if (waiting.length) {
      // The last judgment is not stored yet: undo would withdraw the one before it.
      lastError = {kind: "incomplete", message: "wait until your judgment is stored, then undo it"};
      publishOutbox();
      return;
    }
    let reply = null;
    try {
      const response = await fetch("/api/undo", {
        method: "POST",
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({session_id: info.session}),
      });
      reply = await response.json();
    } catch (error) {
      lastError = {kind: "transient", message: "the dashboard server is not reachable"};
    }
    if (reply) {
      lastError = reply.ok ? null : {kind: reply.kind, message: reply.message};
      if (reply.ok) {
        lastStored = {undone: reply.undone, message: reply.message, at: Date.now()};
        trace(info.session, "undo", {round_index: reply.round_index});
        backToJudgedRound(info.session, reply);
      }
    }
    publishOutbox();
  }
  function backToJudgedRound(session, reply) {
    undoStack.length = 0;
    const draft = read(SUBMITTED, {})[reply.client_key];
    if (draft) {
      draft.started = Date.now();
      saveDraft(draft);
      const info = grid();
      if (info && keyOf(info) === draft.key) { publish(draft); syncFields(draft); }
    }
    if (window.dash_clientside && window.dash_clientside.set_props) {
      const latest = reply.round_index === reply.latest_round;
      window.dash_clientside.set_props(IDS.VIEW, {data: {
        session_id: session, round_index: latest ? null : reply.round_index}});
    }
  }
  // Backspace: one step back in this round's draft, never a stored judgment.
  function undoStep() {
    const draft = loadDraft();
    const top = undoStack.length ? JSON.parse(undoStack[undoStack.length - 1]) : null;
    if (!draft || !top || top.key !== draft.key) {
      undoStack.length = 0;
      const button = document.getElementById(IDS.UNDO_JUDGMENT);
      const stored = button && !button.disabled ? "; “" + button.textContent + "” withdraws a stored one" : "";
      lastError = {kind: "hint", message: "nothing to undo in this draft" + stored};
      publishOutbox();
      return;
    }
    undoStack.pop();
    saveDraft(top);
    publish(top);
  }

  // --- the connection: while the server is unreachable, one banner and one probe --------
  // Dash's poll (ids.POLL) would fail every 2 s and Dash logs each failure to the console:
  // it is paused while the server is away, and a single probe, backed off from 2 s up to
  // 30 s, looks for the server instead; the first request that gets through (the probe's,
  // or any other) brings the poll back and sends the outbox.
  const PROBE_FIRST_MS = 2000;
  const PROBE_MAX_MS = 30000;
  let offline = false;
  let probeDelay = PROBE_FIRST_MS;
  let probeTimer = null;
  let probeAt = 0;
  let bannerTimer = null;
  const realFetch = window.fetch.bind(window);

  function nextProbeDelay(delay) {
    return Math.min(delay * 2, PROBE_MAX_MS);
  }
  function offlineMessage(waiting, seconds) {
    const judgments = waiting + " judgment" + (waiting === 1 ? "" : "s");
    return "Server unreachable \u2014 " + judgments + " waiting; retrying in " + seconds + " s";
  }
  function sameServer(input) {
    const url = typeof input === "string" ? input :
      input instanceof URL ? input.href : (input && input.url) || "";
    return new URL(url, window.location.href).origin === window.location.origin;
  }
  // Every request of the page (Dash's too) tells whether the server is there.
  window.fetch = async function (input, init) {
    try {
      const response = await realFetch(input, init);
      if (offline && sameServer(input)) serverBack();
      return response;
    } catch (error) {
      if (sameServer(input) && !(error && error.name === "AbortError")) serverAway();
      throw error;
    }
  };
  function pausePolling(paused) {
    // The poll (a dcc.Interval, which draws nothing) is on the steering page only.
    const set = window.dash_clientside && window.dash_clientside.set_props;
    if (set && document.querySelector(".steer-page")) set(IDS.POLL, {disabled: paused});
  }
  function serverAway() {
    if (!offline) {
      offline = true;
      probeDelay = PROBE_FIRST_MS;
      pausePolling(true);
      bannerTimer = setInterval(showBanner, 1000);
    }
    scheduleProbe();
    showBanner();
  }
  function scheduleProbe() {
    if (probeTimer) return;
    probeAt = Date.now() + probeDelay;
    probeTimer = setTimeout(probe, probeDelay);
    probeDelay = nextProbeDelay(probeDelay);
  }
  async function probe() {
    probeTimer = null;
    try {
      // Any answer will do: the page's own address, without its body.
      await realFetch(window.location.pathname, {method: "HEAD", cache: "no-store"});
      serverBack();
    } catch (error) {
      scheduleProbe();
    }
  }
  function serverBack() {
    if (!offline) return;
    offline = false;
    probeDelay = PROBE_FIRST_MS;
    clearTimeout(probeTimer);
    probeTimer = null;
    clearInterval(bannerTimer);
    bannerTimer = null;
    pausePolling(false);
    showBanner();
    if (lastError && lastError.kind === "transient") lastError = null;
    retryNow();
  }
  function showBanner() {
    let banner = document.getElementById(IDS.OFFLINE_BANNER);
    if (!offline) { if (banner) banner.hidden = true; return; }
    if (!banner) {
      // Outside Dash's page, so that no render of the page can take it away.
      banner = document.createElement("div");
      banner.id = IDS.OFFLINE_BANNER;
      banner.className = "server-unreachable";
      banner.setAttribute("role", "alert");
      document.body.appendChild(banner);
    }
    const waiting = read(OUTBOX, []).filter((item) => !item.invalid).length;
    const seconds = Math.max(0, Math.ceil((probeAt - Date.now()) / 1000));
    banner.textContent = offlineMessage(waiting, seconds);
    banner.hidden = false;
  }

  // --- the trace: judgments' decision times, page views, retries, undos -------------------
  const TRACE_KEEP = 200;  // events kept at most while the server cannot take them
  const TRACE_BATCH = 50;
  const shownAt = {};  // round key -> when its grid was first on screen
  let traceQueue = [];
  let traceTimer = null;
  let traceSending = false;
  let traceFailures = 0;
  let failedAttempts = 0;  // judgment requests failed in a row (the next send is a retry)
  let failedKind = null;
  let traceSession = null;  // the session on screen, for page views
  let pendingViews = [];  // page views before a session was on screen
  let lastPage = null;

  function trace(session, kind, fields) {
    if (!session) return;
    traceQueue.push(Object.assign({session: session, kind: kind,
                                   client_at: new Date().toISOString()}, fields));
    if (traceQueue.length > TRACE_KEEP) traceQueue.splice(0, traceQueue.length - TRACE_KEEP);
    scheduleTrace(1000);
  }
  function scheduleTrace(delay) {
    if (!traceQueue.length) return;
    if (traceTimer && delay > 0) return;
    clearTimeout(traceTimer);
    traceTimer = setTimeout(() => { traceTimer = null; sendTrace(); }, delay);
  }
  function takeBatch() {
    // One session per request, oldest events first.
    const session = traceQueue[0].session;
    const batch = traceQueue.filter((e) => e.session === session).slice(0, TRACE_BATCH);
    traceQueue = traceQueue.filter((e) => !batch.includes(e));
    const events = batch.map((e) => { const {session: _, ...event} = e; return event; });
    return {batch, body: JSON.stringify({session_id: session, events: events})};
  }
  async function sendTrace() {
    if (traceSending || !traceQueue.length) return;
    // While judgments cannot reach the server, neither can the trace: wait, do not add
    // failed requests of its own.
    if (failedKind === "transient" && failedAttempts) { scheduleTrace(5000); return; }
    const {batch, body} = takeBatch();
    traceSending = true;
    let stored = false;
    let refused = false;
    try {
      const response = await fetch("/api/trace", {
        method: "POST", headers: {"Content-Type": "application/json"}, body: body,
      });
      refused = response.status >= 400 && response.status < 500;  // retrying cannot help
      stored = response.ok && (await response.json()).ok;
    } catch (error) {
      stored = false;  // best-effort: the judgment outbox reports unreachable servers
    }
    traceSending = false;
    if (stored || refused || ++traceFailures > 3) {
      traceFailures = 0;
      if (traceQueue.length) scheduleTrace(0);
    } else {
      traceQueue = batch.concat(traceQueue).slice(-TRACE_KEEP);
      scheduleTrace(5000);
    }
  }
  function sendTraceBeacon() {
    // The page is going away (reload, closed tab): hand what is left to the browser.
    if (!navigator.sendBeacon) return;
    while (traceQueue.length) navigator.sendBeacon("/api/trace", takeBatch().body);
  }
  function noteShown(info) {
    const key = keyOf(info);
    if (!(key in shownAt)) shownAt[key] = Date.now();
    if (traceSession !== info.session) {
      traceSession = info.session;
      for (const view of pendingViews) trace(traceSession, "page_view", view);
      pendingViews = [];
    }
  }
  function notePage() {
    const page = window.location.pathname;
    if (page + window.location.search === lastPage) return;
    lastPage = page + window.location.search;
    const session = new URLSearchParams(window.location.search).get("session") || traceSession;
    const view = {page: page, client_at: new Date().toISOString()};
    if (session) trace(session, "page_view", view);
    else if (pendingViews.length < 20) pendingViews.push(view);
  }

  // --- "next round after each judgment": the researcher's choice, kept in this browser ---
  const AUTO_ADVANCE = "steer.autoAdvance.v1";
  let shownRound = null;  // the round key whose grid is on screen
  function rememberAutoAdvance(event) {
    if (event.target && event.target.id === IDS.AUTO_ADVANCE)
      write(AUTO_ADVANCE, Boolean(event.target.checked));
  }
  function restoreAutoAdvance() {
    const stored = read(AUTO_ADVANCE, null);
    const element = document.getElementById(IDS.AUTO_ADVANCE);
    const set = window.dash_clientside && window.dash_clientside.set_props;
    if (stored === null || !element || !set || element.checked === stored) return;
    set(IDS.AUTO_ADVANCE, {value: stored});
  }

  // --- clicks ----------------------------------------------------------------------------
  function onClick(event) {
    const target = event.target.closest("[data-action]");
    if (!target) return;
    const action = target.dataset.action;
    const slot = Number(target.dataset.slot);
    if (action === "pick") change((d) => pick(d, slot, event.shiftKey));
    else if (action === "rate") change((d) => rate(d, slot, Number(target.dataset.stars)));
    else if (action === "approve") change((d) => approve(d, slot, "approved"));
    else if (action === "reject") change((d) => approve(d, slot, "rejected"));
    else if (action === "A" || action === "B" || action === "tie") choosePair(action);
    else if (action === "submit") submit(null);
    else if (action === "reject-all" || action === "cannot-decide" || action === "critique")
      submit(action);
    else if (action === "clear") clearDraft();
    else if (action === "undo") undoStep();
    else if (action === "withdraw") undoJudgment();
    else if (action === "retry") retryNow();
    else if (action === "discard") discardInvalid();
    else if (action === "next-stage") funnelNext();
    // The inspector opens with the candidate's image at once (inspector.js); the server
    // fills in the rest when it sees the store change.
    else if (action === "inspect" && window.openInspector)
      window.openInspector(Number(target.dataset.candidate));
  }
  function choosePair(action) {
    const choice = {A: "first", B: "second", tie: "tie"}[action];
    change((d) => { d.choice = choice; });
    const draft = loadDraft();
    if (draft && draft.pair.length === 2) submit(null);
  }
  function clearDraft() {
    const info = grid();
    if (!info) return;
    change((d) => Object.assign(d, emptyDraft(info), {confidence: d.confidence}));
  }

  // --- keys ------------------------------------------------------------------------------
  // Which key does what is one table, SHORTCUTS in dashboard/layout/grid.py: the page lists
  // it on screen and hands it here as data (the shortcut list's data-shortcuts, key name ->
  // action); KEY_ACTIONS says what each action does. A key not in the table does nothing.
  const TEXT_INPUT = /^(text|search|number|email|url|password|tel)$/;  // input types
  function typing(element) {
    // Only text fields pause the shortcuts: in a button, a checkbox or the slider they work.
    if (!element) return false;
    if (element.isContentEditable || element.tagName === "TEXTAREA") return true;
    return element.tagName === "INPUT" && TEXT_INPUT.test(element.type);
  }
  function nativeKey(element, name) {
    // Keys a focused control needs for itself: Enter and Space press a button or tick a
    // box; arrows move a menu or the slider.
    if (!element || element === document.body || element.closest(".candidate-grid")) return false;
    const arrows = ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"];
    if (element.tagName === "SELECT" || element.getAttribute("role") === "slider")
      return arrows.includes(name) || name === "Enter" || name === " ";
    return ["BUTTON", "A", "INPUT", "SUMMARY"].includes(element.tagName) &&
      (name === "Enter" || name === " ");
  }
  let keyTableText = null;
  let keyTableCache = {};
  function keyTable() {
    const element = document.getElementById(IDS.SHORTCUTS);
    const text = (element && element.dataset.shortcuts) || "{}";
    if (text !== keyTableText) { keyTableText = text; keyTableCache = JSON.parse(text); }
    return keyTableCache;
  }
  function keyName(event) {
    if (event.ctrlKey || event.metaKey) return null;
    let key = event.key;
    // Shift+digit selects (for "cannot decide"): the key is "!" or "@" on most layouts.
    if (event.shiftKey && /^Digit[1-9]$/.test(event.code || "")) key = event.code.slice(5);
    return (event.altKey ? "Alt+" : "") + key;
  }
  function focusCard(slot) {
    // Back to the grid, on the card the draft's focus is on (its "focused" frame).
    const cards = document.querySelectorAll(".candidate-card");
    const card = cards[slot] || cards[0];
    if (card) card.focus({preventScroll: true});
  }
  function leaveControl() {
    // Esc in a field or on a button: leave it for the grid. On the grid: clear the draft.
    const element = document.activeElement;
    if (element && element !== document.body && !element.closest(".candidate-card")) {
      element.blur();
      const draft = loadDraft();
      focusCard(draft ? draft.focus : 0);
      showKeysPaused();
      return;
    }
    clearDraft();
  }
  function clickButton(id) {
    const button = document.getElementById(id);
    if (button && !button.disabled) button.click();
  }
  function focusedCandidate() {
    const info = grid();
    const draft = loadDraft();
    return info && draft ? info.candidates[draft.focus] : null;
  }
  function stepMode(step) {
    const select = document.getElementById(IDS.MODE_SWITCH);
    const set = window.dash_clientside && window.dash_clientside.set_props;
    if (!select || !set) return;
    const values = Array.from(select.options).map((option) => option.value);
    const at = values.indexOf(select.value);
    set(IDS.MODE_SWITCH, {value: values[(at + step + values.length) % values.length]});
  }
  function digitKey(draft, key, shift) {
    const digit = Number(key);
    if (draft.mode === "rating" && !shift) {
      // Rate the focused image and move on: 5 4 2 3 ... rates the round in order.
      if (digit <= 5) change((d) => { d.ratings[d.focus] = digit;
                                       d.focus = Math.min(d.focus + 1, d.k - 1); });
    } else change((d) => pick(d, digit - 1, shift));
  }
  const MOVES = {
    ArrowRight: (d) => Math.min(d.focus + 1, d.k - 1),
    ArrowLeft: (d) => Math.max(d.focus - 1, 0),
    ArrowDown: (d) => Math.min(d.focus + columns(), d.k - 1),
    ArrowUp: (d) => Math.max(d.focus - columns(), 0),
  };
  // action -> what it does, given the draft, the key's name and the event.
  const KEY_ACTIONS = {
    pick: (draft, key, event) => digitKey(draft, key.slice(-1), event.shiftKey),
    move: (draft, key) => change((d) => { d.focus = MOVES[key](d); }),
    "pick-focused": () => change((d) => pick(d, d.focus, false)),
    submit: () => submit(null),
    undo: () => undoStep(),
    withdraw: () => undoJudgment(),
    escape: () => leaveControl(),
    pair: (draft, key) => choosePair({"[": "A", "]": "B", t: "tie"}[key]),
    approve: (draft, key) => change((d) => approve(d, d.focus, key === "a" ? "approved" : "rejected")),
    select: () => change((d) => toggle(d.selected, d.focus)),
    "reject-all": () => submit("reject-all"),
    "cannot-decide": () => submit("cannot-decide"),
    mode: (draft, key) => stepMode(key === "M" ? -1 : 1),
    inspect: () => {
      const id = focusedCandidate();
      if (id !== null && window.openInspector) window.openInspector(id);
    },
    "more-like-this": () => {
      const id = focusedCandidate();
      const set = window.dash_clientside && window.dash_clientside.set_props;
      if (id !== null && set) set(IDS.MORE_LIKE_REQUEST, {data: {candidate_id: id, at: Date.now()}});
    },
    advance: () => clickButton(IDS.NEXT_ROUND),
    confidence: (draft, key) => change((d) => {
      const step = key === "-" ? -0.1 : 0.1;
      d.confidence = Math.round(Math.min(1, Math.max(0, (d.confidence ?? 1) + step)) * 10) / 10;
    }),
    round: (draft, key) => clickButton(key === "Alt+ArrowLeft" ? IDS.ROUND_PREV : IDS.ROUND_NEXT),
    plots: () => window.togglePlots && window.togglePlots(),
    shortcuts: () => {
      const list = document.getElementById(IDS.SHORTCUTS);
      if (list) list.open = !list.open;
    },
  };
  function onKey(event) {
    const name = keyName(event);
    const action = name === null ? undefined : keyTable()[name];
    if (!action) return;
    if (typing(event.target) && action !== "escape") return;
    if (nativeKey(event.target, name)) return;
    // With the inspector open, keys belong to it (Escape closes it), not to the grid.
    if (document.querySelector(".offcanvas.show")) return;
    const draft = loadDraft();
    if (!draft) return;
    event.preventDefault();
    KEY_ACTIONS[action](draft, name, event);
    // The confidence slider shows the draft's value.
    if (action === "confidence") syncFields(loadDraft());
  }
  function columns() {
    const cards = document.querySelectorAll(".candidate-card");
    if (cards.length < 2) return 1;
    const top = cards[0].offsetTop;
    let n = 0;
    for (const card of cards) { if (card.offsetTop !== top) break; n++; }
    return Math.max(n, 1);
  }

  // While a text field has the focus, the page says the shortcuts wait (outside Dash's
  // page, like the offline banner, so that no render takes it away).
  function showKeysPaused() {
    let note = document.getElementById(IDS.KEYS_PAUSED);
    const paused = typing(document.activeElement) && Boolean(document.querySelector(".steer-page"));
    if (!paused) { if (note) note.hidden = true; return; }
    if (!note) {
      note = document.createElement("div");
      note.id = IDS.KEYS_PAUSED;
      note.className = "keys-paused alert alert-secondary small py-1 px-2 mb-2 " +
        "position-fixed bottom-0 start-50 translate-middle-x";
      note.setAttribute("role", "status");
      note.textContent = "Shortcuts paused while you type \u2014 Esc leaves the field";
      document.body.appendChild(note);
    }
    note.hidden = false;
  }

  document.addEventListener("click", onClick);
  document.addEventListener("keydown", onKey);
  document.addEventListener("change", rememberAutoAdvance);
  document.addEventListener("focusin", showKeysPaused);
  document.addEventListener("focusout", () => setTimeout(showKeysPaused, 0));
  window.addEventListener("online", () => {
    // The browser has a network again: look for the server now, not at the next probe.
    if (!offline) { retryNow(); return; }
    clearTimeout(probeTimer);
    probeTimer = null;
    probe();
  });
  window.addEventListener("popstate", notePage);
  window.addEventListener("_dashprivate_pushstate", notePage);  // Dash's own links
  window.addEventListener("pagehide", sendTraceBeacon);
  notePage();

  // --- what Dash calls ----------------------------------------------------------------------
  // The pure functions from draft to judgment are here too, for their unit tests
  // (tests/dashboard/browser/test_judging_js.py).
  window.steer = {flush, loadDraft, retryNow, emptyDraft, rawJudgment, missing, describe,
                  nextProbeDelay, offlineMessage, approve, pick, advances, typing, keyName,
                  keyActions: Object.keys(KEY_ACTIONS)};
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    steer: {
      gridChanged: function () {
        // A new grid (round, mode or session): show its stored draft, send what waits.
        const draft = loadDraft();
        const fresh = draft && draft.key !== shownRound;
        if (fresh) {
          // A new round starts on card 1, with the keys on the grid (not on the button or
          // menu last used), unless the researcher is typing.
          shownRound = draft.key;
          draft.focus = 0;
          saveDraft(draft);
        }
        setTimeout(() => {
          syncFields(draft);
          restoreAutoAdvance();
          if (fresh && !typing(document.activeElement)) focusCard(0);
          flush();
        }, 0);
        return draft;
      },
      setFields: function (confidence, tags, text, reason) {
        shownFields = {[IDS.CONFIDENCE]: confidence, [IDS.CRITIQUE_TAGS]: tags,
                       [IDS.CRITIQUE_TEXT]: text, [IDS.REJECT_REASON]: reason};
        const draft = loadDraft();
        if (!draft) return window.dash_clientside.no_update;
        draft.confidence = confidence ?? 1;
        draft.tags = tags || [];
        draft.text = text || "";
        draft.reason = reason || "";
        saveDraft(draft);
        return draft;
      },
      renderDraft: function (draft) {
        const outputs = window.dash_clientside.callback_context.outputs_list[0];
        const n = outputs.length;
        const classes = [];
        const marks = [];
        for (let slot = 0; slot < n; slot++) {
          const names = ["candidate-card"];
          let mark = "";
          if (draft) {
            if (draft.focus === slot) names.push("focused");
            if (draft.winner === slot) { names.push("picked"); mark = draft.mode === "critique" ? "critique" : "winner"; }
            if (draft.ratings && draft.ratings[slot]) { names.push("rated"); mark = "★".repeat(draft.ratings[slot]); }
            const rank = draft.order ? draft.order.indexOf(slot) : -1;
            if (rank >= 0) { names.push("ranked"); mark = ordinal(rank + 1); }
            const side = draft.pair ? draft.pair.indexOf(slot) : -1;
            if (side >= 0) { names.push("paired"); mark = side === 0 ? "A" : "B"; }
            if (draft.approved && draft.approved.includes(slot)) { names.push("approved"); mark = "✓"; }
            if (draft.rejected && draft.rejected.includes(slot)) { names.push("rejected"); mark = "✗"; }
            if (draft.selected && draft.selected.includes(slot)) names.push("selected");
          }
          classes.push(names.join(" "));
          marks.push(mark);
        }
        let summary = "";
        if (draft) {
          const info = grid();
          const raw = info ? rawJudgment(draft, info, null) : null;
          summary = raw ? "Ready: " + describe(raw) + " — Enter submits" : missing(draft);
          if (draft.selected && draft.selected.length)
            summary += " · selected for cannot-decide: " + draft.selected.map((s) => s + 1).join(", ");
          // The keys (- +) change it without a look at the slider: the summary says it.
          const confidence = draft.confidence ?? 1;
          if (confidence < 1) summary += " · confidence " + Math.round(confidence * 100) + " %";
        }
        return [classes, marks, summary];
      },
      renderOutbox: function (status) {
        const outbox = read(OUTBOX, []);
        const invalid = outbox.filter((item) => item.invalid);
        const parts = [];
        const h = (tag, props, children) => ({
          type: tag, namespace: "dash_html_components", props: Object.assign({children}, props),
        });
        if (status && status.error) {
          const kind = status.error.kind;
          const label = kind === "incomplete" ? "Not yet" : kind === "hint" ? "Note" :
            kind === "refused" ? "Not taken" :
            kind === "invalid input" ? "Invalid input" :
            kind === "transient" ? "Transient failure" : "Runtime failure";
          const buttons = [];
          if (kind === "transient" || kind === "runtime")
            buttons.push(h("Button", {className: "btn btn-sm btn-warning ms-2",
              "data-action": "retry", id: IDS.OUTBOX_RETRY}, "Retry"));
          if (invalid.length)
            buttons.push(h("Button", {className: "btn btn-sm btn-outline-secondary ms-2",
              "data-action": "discard"}, "Discard"));
          parts.push(h("Div", {className: "outbox-error text-" +
            (kind === "incomplete" || kind === "hint" ? "muted" :
             kind === "refused" ? "warning-emphasis" : "danger")},
            [h("Strong", {}, label + ": "), status.error.message, ...buttons]));
        }
        const pending = outbox.length - invalid.length;
        if (pending) parts.push(h("Div", {className: "text-muted"},
          pending + " judgment" + (pending > 1 ? "s" : "") + " waiting to be stored"));
        else if (status && status.stored && status.stored.count)
          parts.push(h("Div", {className: "text-success outbox-ok"},
            "Stored ✓ (" + status.stored.count + ")"));
        else if (status && status.stored && status.stored.undone)
          parts.push(h("Div", {className: "text-success outbox-undone"},
            status.stored.message || "Undid judgment " + status.stored.undone));
        return parts;
      },
    },
  });

  function describe(raw) {
    if (raw.mode === "winner") return "winner";
    if (raw.mode === "rating") return Object.keys(raw.ratings).length + " rating(s)";
    if (raw.mode === "ranking") return "ranking of " + raw.order.length;
    if (raw.mode === "pairwise") return "pair, " + raw.choice;
    if (raw.mode === "approve_reject") return raw.approved.length + " approved, " + raw.rejected.length + " rejected";
    if (raw.mode === "critique") return "critique";
    return raw.mode.replace("_", " ");
  }
})();
