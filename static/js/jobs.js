// Live job updates over WebSockets. Pages mark elements:
//   [data-job-live="<id>"]        one job's progress card (bar, stage, epoch n of N, ETA, error)
//   [data-live-jobs]              a table whose rows carry data-job-id
//   [data-row-status-of="<id>"]   a badge showing the status of the row job <id> works on (version, run)
//   [data-show-when="active"|"retryable"]  buttons shown only while the job runs / once it failed
//   [data-job-status-of="<id>"]   a job's status in a list (renders), [data-show-when-succeeded="<id>"] its
//                                 download link; on pages without a card these and the row badges follow
//                                 the user's job-list socket
// A job's socket first sends a snapshot (type "job.snapshot"), then events numbered by "seq": an event the
// snapshot already holds is dropped, and a gap in the numbers asks the server for a new snapshot. The
// snapshot is dispatched as the DOM event "offside:snapshot", every event as "offside:job".
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
  // when a dropped socket is open again (sockets without snapshots use it to refetch what they show).
  function connect(path, onEvent, onReconnect) {
    let socket = null;
    let delayMs = 500;
    let stopped = false;
    let dropped = false;
    let lastSeq = null;  // set by a snapshot: one job's socket, whose events are numbered
    function deliver(event) {
      onEvent(event);
      const name = event.type === "job.snapshot" ? "offside:snapshot" : "offside:job";
      document.dispatchEvent(new CustomEvent(name, { detail: event }));
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
    return "epoch " + event.epochs_done + " of " + event.epochs_total;
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
    if (!row) {
      if (event.status === "queued" || event.status === "running") table.dataset.stale = "1";
      return;
    }
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

  function start() {
    const card = document.querySelector("[data-job-live]");
    if (card) {
      connect("/ws/jobs/" + card.dataset.jobLive + "/", (event) => updateCard(card, event));
      setInterval(() => setField(card, "eta", etaText(card.dataset.status)), 1000);
    }
    const tables = document.querySelectorAll("[data-live-jobs]");
    const listed = document.querySelector("[data-job-status-of], [data-row-status-of]");
    if (!card && (tables.length || listed)) {
      // The list socket has no snapshot: after a drop, reload to show what changed meanwhile.
      const onEvent = (event) => { tables.forEach((table) => updateRow(table, event)); updateListed(event); };
      connect("/ws/jobs/", onEvent, () => window.location.reload());
    }
  }

  window.OffsideJobs = { connect, formatSeconds };
  document.addEventListener("DOMContentLoaded", start);
})();
