// Live job updates over WebSockets. Pages mark elements:
//   [data-job-live="<id>"]        one job's progress card (bar, stage, epoch n of N, ETA, error)
//   [data-live-jobs]              a table whose rows carry data-job-id
//   [data-row-status-of="<id>"]   a badge showing the status of the row job <id> works on (version, run)
//   [data-show-when="active"|"retryable"]  buttons shown only while the job runs / once it failed
//   [data-job-status-of="<id>"]   a job's status in a list (renders), [data-show-when-succeeded="<id>"] its
//                                 download link; on pages without a card these and the row badges follow
//                                 the user's job-list socket
//   [data-live-list][id]          a list of jobs or their rows (jobs, runs, versions, renders), optionally
//                                 limited to kinds (data-live-kinds="score"): an event for a job of those
//                                 kinds that it does not show yet (started in another tab) and every
//                                 reconnect of the list socket refetch the page and swap in the list's
//                                 fresh copy, so new rows appear and changes missed while cut show
// A job's socket first sends a snapshot (type "job.snapshot"), then events numbered by "seq": an event the
// snapshot already holds is dropped, and a gap in the numbers asks the server for a new snapshot. The
// snapshot is dispatched as the DOM event "offside:snapshot", every event as "offside:job".
//   [data-reload-when-succeeded="<id>"]  a page drawn before job <id> ended reloads once when it succeeds, told
//                                 by an event or, when the job ended before the socket opened, the snapshot
//   [data-reload-when-ended="<id>"]  the same once it ends in any state; without a card for the job, the
//                                 page follows that job's socket for its snapshot
(function () {
  "use strict";

  const TERMINAL = ["succeeded", "failed", "cancelled"];

  function socketUrl(path) {
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + window.location.host + path;
  }

  function setIndicator(text) {
    document.querySelectorAll("[data-live-indicator]").forEach((el) => { el.textContent = text; });
  }

  // Opens a socket that reconnects with back-off until stop() or a refusal (4401/4403). ``onReconnect`` runs
  // when a dropped socket is open again (sockets without snapshots use it to refetch what they show);
  // ``onOpen`` every time it opens, the first time included (what changed before the page could listen).
  function connect(path, onEvent, onReconnect, onOpen) {
    let socket = null;
    let delayMs = 500;
    let stopped = false;
    let dropped = false;
    let lastSeq = null;  // set by a snapshot: one job's socket, whose events are numbered
    function deliver(event) {
      onEvent(event);
      const name = event.type === "job.snapshot" ? "offside:snapshot" : "offside:job";
      document.dispatchEvent(new CustomEvent(name, { detail: event }));
      reloadWhenDone(event);
    }
    function receive(event) {
      if (event.type === "job.snapshot") { lastSeq = event.seq; deliver(event); return; }
      if (lastSeq !== null && typeof event.seq === "number") {
        if (event.seq <= lastSeq) return;  // already in the snapshot
        if (event.seq > lastSeq + 1) { socket.send(JSON.stringify({ type: "resync" })); return; }
        lastSeq = event.seq;
      }
      deliver(event);
    }
    function open() {
      socket = new WebSocket(socketUrl(path));
      socket.onopen = () => {
        delayMs = 500;
        setIndicator("Live updates: connected");
        if (onOpen) onOpen();
        if (dropped && onReconnect) onReconnect();
      };
      socket.onmessage = (message) => receive(JSON.parse(message.data));
      socket.onclose = (closeEvent) => {
        if (closeEvent.code === 4401 || closeEvent.code === 4403) {
          setIndicator("Live updates refused: log in again or check your access.");
          return;
        }
        if (stopped) return;
        dropped = true;
        lastSeq = null;  // the next snapshot starts the count again
        setIndicator("Live updates: reconnecting…");
        setTimeout(open, delayMs);
        delayMs = Math.min(delayMs * 2, 10000);
      };
    }
    open();
    return { stop() { stopped = true; if (socket) socket.close(); } };
  }

  // Once per job and tab: a page whose row still lags its ended job cannot reload in a loop.
  function reloadWhenDone(event) {
    if (!TERMINAL.includes(event.status)) return;
    const marked = (name) => document.querySelector("[" + name + '="' + event.id + '"]') !== null;
    if (!marked("data-reload-when-ended") && !(event.status === "succeeded" && marked("data-reload-when-succeeded"))) {
      return;
    }
    const key = "offside-reloaded-for-job-" + event.id;
    if (window.sessionStorage.getItem(key)) return;
    window.sessionStorage.setItem(key, "1");
    setTimeout(() => window.location.reload(), 800);
  }

  function formatSeconds(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return "";
    if (seconds < 60) return seconds.toFixed(1) + " s";
    const minutes = Math.floor(seconds / 60);
    return minutes + " min " + Math.round(seconds % 60) + " s";
  }

  function setField(root, name, text) {
    root.querySelectorAll('[data-field="' + name + '"]').forEach((el) => { el.textContent = text; });
  }

  function setBar(root, progress) {
    const percent = Math.round(progress * 100);
    root.querySelectorAll('[data-field="bar"]').forEach((el) => { el.style.width = percent + "%"; });
    root.querySelectorAll('[role="progressbar"]').forEach((el) => el.setAttribute("aria-valuenow", percent));
    setField(root, "percent", String(percent));
  }

  function setStatus(root, status) {
    root.querySelectorAll('[data-field="status"]').forEach((el) => {
      el.textContent = status;
      el.className = "status-pill status-" + status;
    });
    root.dataset.status = status;
  }

  // The ETA is the server's, from measured epoch durations (eta_s, sent with each epoch); between epochs
  // it counts down with the clock. Kinds without epochs show none rather than a guess from the bar.
  const eta = { seconds: null, at: 0 };

  function etaText(status) {
    if (TERMINAL.includes(status) || eta.seconds === null) return "";
    const left = Math.max(eta.seconds - (Date.now() - eta.at) / 1000, 0);
    return "about " + formatSeconds(left) + " left";
  }

  function epochText(event) {
    if (!event.epochs_total) return "";
    // The total counts every model a training makes: the final one and any calibration fold models.
    return "epoch " + event.epochs_done + " of " + event.epochs_total + " across this training's models";
  }

  // Buttons and badges outside the card follow the job too: Cancel only while it runs, Retry once it
  // failed or was cancelled, the row's badge (version, run) with the row's own status.
  function updatePage(event) {
    const finished = TERMINAL.includes(event.status);
    document.querySelectorAll('[data-show-when="active"]').forEach((el) => { el.hidden = finished; });
    document.querySelectorAll('[data-show-when="retryable"]').forEach((el) => {
      el.hidden = !(event.status === "failed" || event.status === "cancelled");
    });
    updateRowStatus(event);
  }

  function updateRowStatus(event) {
    if (!event.row_status) return;
    document.querySelectorAll('[data-row-status-of="' + event.id + '"]').forEach((el) => {
      el.textContent = event.row_status;
      el.className = "status-pill status-" + event.row_status;
    });
  }

  function updateCard(card, event) {
    setStatus(card, event.status);
    setBar(card, event.progress);
    setField(card, "stage", event.stage || "");
    setField(card, "duration", formatSeconds(event.duration_s));
    if (event.epochs_total) setField(card, "epochs", epochText(event));
    if (event.eta_s !== undefined) { eta.seconds = event.eta_s; eta.at = Date.now(); }
    setField(card, "eta", etaText(event.status));
    const error = card.querySelector('[data-field="error"]');
    if (error) { error.textContent = event.error || ""; error.hidden = !event.error; }
    if (TERMINAL.includes(event.status)) {
      const result = card.querySelector('[data-field="result"]');
      if (result && event.result) result.textContent = JSON.stringify(event.result, null, 2);
    }
    updatePage(event);
  }

  function updateRow(table, event) {
    const row = table.querySelector('tr[data-job-id="' + event.id + '"]');
    if (!row) return;  // a job this table does not show yet: noticeNewJobs refetches the list
    row.className = "status-" + event.status;
    setStatus(row, event.status);
    setBar(row, event.progress);
    setField(row, "stage", event.status === "failed" ? event.error : event.stage || "");
    setField(row, "duration", formatSeconds(event.duration_s));
    if (TERMINAL.includes(event.status)) {  // a finished job has nothing to cancel (Retry comes with a reload)
      row.querySelectorAll('[data-row-action="cancel"]').forEach((el) => { el.hidden = true; });
    }
  }

  // Statuses of jobs (renders of a run) and of their rows (a category's versions) listed on a page: from the
  // user's list socket.
  function updateListed(event) {
    updateRowStatus(event);
    document.querySelectorAll('[data-job-status-of="' + event.id + '"]').forEach((el) => {
      el.textContent = event.status;
    });
    document.querySelectorAll('[data-show-when-succeeded="' + event.id + '"]').forEach((el) => {
      el.hidden = event.status !== "succeeded";
    });
  }

  // --- lists that rows join: a list-level snapshot is the page's own fresh copy of the list ----------------

  // ``during``: terminal events that arrived while a fetch was on its way; the page may have been rendered
  // before them, so they are applied again to the fresh copy (a final state is never lost; an older
  // progress value is corrected by the job's next event).
  const lists = { checked: new Set(), pending: null, again: false, during: [] };

  function listShows(list, id) {
    const ids = ["data-job-id", "data-job-status-of", "data-row-status-of"];
    return list.querySelector(ids.map((name) => "[" + name + '="' + id + '"]').join(", ")) !== null;
  }

  function listWants(list, kind) {
    const kinds = list.dataset.liveKinds;
    return !kinds || kinds.split(" ").includes(kind);
  }

  // Fetches the page again and replaces every live list by its fresh copy (same id). One fetch at a time;
  // a request made meanwhile runs once more after it, so the last change is never missed.
  function refreshLists(apply) {
    if (lists.pending) { lists.again = true; return lists.pending; }
    lists.during = [];
    lists.pending = fetch(window.location.href, { credentials: "same-origin" })
      .then((response) => { if (!response.ok) throw new Error(response.statusText); return response.text(); })
      .then((html) => {
        const fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live-list][id]").forEach((list) => {
          const copy = fresh.getElementById(list.id);
          if (copy) list.replaceWith(document.importNode(copy, true));
        });
        lists.during.forEach(apply);
        document.dispatchEvent(new CustomEvent("offside:lists"));
      })
      .catch(() => {})  // the next event or reconnect fetches again
      .finally(() => {
        lists.pending = null;
        if (lists.again) { lists.again = false; refreshLists(apply); }
      });
    return lists.pending;
  }

  // A job of a listed kind that no list shows yet: refetch once for it (a job the list leaves out, on
  // another page of it or filtered away, costs one fetch, not one per event).
  function noticeNewJobs(event, apply) {
    if (lists.pending && TERMINAL.includes(event.status)) lists.during.push(event);
    if (lists.checked.has(event.id)) return;
    const missing = Array.from(document.querySelectorAll("[data-live-list][id]"))
      .some((list) => listWants(list, event.kind) && !listShows(list, event.id));
    if (!missing) return;
    lists.checked.add(event.id);
    refreshLists(apply);
  }

  function start() {
    const card = document.querySelector("[data-job-live]");
    if (card) {
      connect("/ws/jobs/" + card.dataset.jobLive + "/", (event) => updateCard(card, event));
      setInterval(() => setField(card, "eta", etaText(card.dataset.status)), 1000);
    }
    document.querySelectorAll("[data-reload-when-ended]").forEach((el) => {
      const id = el.dataset.reloadWhenEnded;
      if (!card || card.dataset.jobLive !== id) connect("/ws/jobs/" + id + "/", () => {});
    });
    const followed = "[data-live-jobs], [data-live-list], [data-job-status-of], [data-row-status-of]";
    if (!card && document.querySelector(followed)) {
      // The list socket has no snapshot: after a drop, refetch the lists (or reload a page without one).
      const apply = (event) => {
        document.querySelectorAll("[data-live-jobs]").forEach((table) => updateRow(table, event));
        updateListed(event);
      };
      // For lists whose rows change with more than their job (a video's status after its probe).
      window.OffsideJobs.refreshLists = () => refreshLists(apply);
      const onEvent = (event) => { apply(event); noticeNewJobs(event, apply); };
      const onReconnect = () => {
        if (document.querySelector("[data-live-list][id]")) refreshLists(apply);
        else window.location.reload();
      };
      connect("/ws/jobs/", onEvent, onReconnect);
    }
  }

  window.OffsideJobs = { connect, formatSeconds, refreshLists: null };
  document.addEventListener("DOMContentLoaded", start);
})();
