// Live job updates over WebSockets. Pages mark elements:
//   [data-job-live="<id>"]  one job's progress card (bar, stage, ETA, error)
//   [data-live-jobs]        a table whose rows carry data-job-id
// Every event is also dispatched as a DOM event "offside:job" so other scripts (loss charts) can listen.
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

  // Opens a socket that reconnects with back-off until stop() or a refusal (4401/4403).
  function connect(path, onEvent) {
    let socket = null;
    let delayMs = 500;
    let stopped = false;
    function open() {
      socket = new WebSocket(socketUrl(path));
      socket.onopen = () => { delayMs = 500; setIndicator("Live updates: connected"); };
      socket.onmessage = (message) => {
        const event = JSON.parse(message.data);
        onEvent(event);
        document.dispatchEvent(new CustomEvent("offside:job", { detail: event }));
      };
      socket.onclose = (closeEvent) => {
        if (closeEvent.code === 4401 || closeEvent.code === 4403) {
          setIndicator("Live updates refused: log in again or check your access.");
          return;
        }
        if (stopped) return;
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

  // ETA from the average rate since the job started; blank until there is enough progress to judge.
  function etaText(event) {
    if (TERMINAL.includes(event.status) || !event.duration_s || event.progress < 0.02) return "";
    const remaining = event.duration_s * (1 - event.progress) / event.progress;
    return "about " + formatSeconds(remaining) + " left";
  }

  function updateCard(card, event) {
    setStatus(card, event.status);
    setBar(card, event.progress);
    setField(card, "stage", event.stage || "");
    setField(card, "duration", formatSeconds(event.duration_s));
    setField(card, "eta", etaText(event));
    const error = card.querySelector('[data-field="error"]');
    if (error) { error.textContent = event.error || ""; error.hidden = !event.error; }
    if (TERMINAL.includes(event.status)) {
      const result = card.querySelector('[data-field="result"]');
      if (result && event.result) result.textContent = JSON.stringify(event.result, null, 2);
      const cancel = document.getElementById("cancel-button");
      if (cancel) cancel.disabled = true;
    }
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
  }

  function start() {
    const card = document.querySelector("[data-job-live]");
    if (card) {
      connect("/ws/jobs/" + card.dataset.jobLive + "/", (event) => updateCard(card, event));
    }
    const tables = document.querySelectorAll("[data-live-jobs]");
    if (tables.length && !card) {
      connect("/ws/jobs/", (event) => tables.forEach((table) => updateRow(table, event)));
    }
  }

  window.OffsideJobs = { connect, formatSeconds };
  document.addEventListener("DOMContentLoaded", start);
})();
