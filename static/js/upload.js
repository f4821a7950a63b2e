// Resumable chunked uploads (protocol: docs/UPLOAD.md).
// Each file: POST /uploads/ -> id; PATCH /uploads/<id>/ with Upload-Offset + a chunk until done.
// Upload ids are kept in localStorage under name+size+lastModified, so choosing the same file after a reload
// resumes it; from another browser the server finds it by name, size and the SHA-256 of the first MiB.
// Network errors retry with back-off, asking the server for its offset first.
(function () {
  "use strict";

  const PARALLEL = 2;
  const MAX_RETRIES = 8;
  const STORE_PREFIX = "offside-upload:";
  const HEAD_BYTES = 1024 * 1024; // webapp.models.uploads.HEAD_BYTES
  const TERMINAL_JOB = ["succeeded", "failed", "cancelled"];

  const zone = document.getElementById("dropzone");
  if (!zone) return;
  const input = document.getElementById("file-input");
  const list = document.getElementById("upload-list");
  const toolbar = document.getElementById("upload-toolbar");
  const totalLine = document.getElementById("upload-total");
  const collectionUrl = zone.dataset.uploadUrl;
  const chunkBytes = parseInt(zone.dataset.chunkBytes, 10) || 8 * 1024 * 1024;
  const maxBytes = parseInt(zone.dataset.maxBytes, 10) || Infinity;
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;

  const entries = [];
  const entriesByJob = new Map();

  // --- formatting ---------------------------------------------------------------------------------------

  // Written as Django's filesizeformat writes it (the video list and page), so a size reads the same
  // everywhere: "1 byte", "36 bytes", "232.7 KB", with a no-break space. Python's round() sends an exact
  // tie to the even digit (1280 bytes = 1.25 KB -> "1.2 KB") where toFixed() rounds it up: ties are exact
  // in binary here (a multiple of 1/4), so they are found exactly.
  const NBSP = "\u00a0";
  function formatBytes(bytes) {
    bytes = Math.round(bytes);
    if (bytes < 1024) return bytes + NBSP + (bytes === 1 ? "byte" : "bytes");
    const units = ["KB", "MB", "GB", "TB", "PB"];
    let value = bytes / 1024;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    const tenths = value * 10;
    let rounded = Math.round(tenths);
    if (tenths - Math.floor(tenths) === 0.5 && rounded % 2 === 1) rounded -= 1;
    return (rounded / 10).toFixed(1) + NBSP + units[unit];
  }
  window.offsideFormatBytes = formatBytes; // one size format for any page script (and its browser test)

  function formatDuration(seconds) {
    if (!isFinite(seconds) || seconds < 0) return "";
    if (seconds < 60) return Math.ceil(seconds) + " s";
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min " + String(Math.round(seconds % 60)).padStart(2, "0") + " s";
    return Math.floor(minutes / 60) + " h " + String(minutes % 60).padStart(2, "0") + " min";
  }

  function storeKey(file) {
    return STORE_PREFIX + [file.name, file.size, file.lastModified].join(":");
  }

  // --- one file ------------------------------------------------------------------------------------------

  class Entry {
    constructor(file) {
      this.file = file;
      this.id = null;
      this.offset = 0;
      this.state = "waiting"; // waiting, uploading, paused, retrying, processing, ready, duplicate, failed
      this.xhr = null;
      this.retries = 0;
      this.samples = []; // [time ms, bytes sent] for the speed estimate
      this.jobId = null;
      this.row = this.render();
    }

    render() {
      const row = document.createElement("li");
      row.className = "upload-item";
      row.innerHTML =
        '<div class="upload-head"><span class="upload-name"></span><span class="upload-size muted"></span>' +
        '<span class="upload-actions"><button type="button" class="small" data-action="pause">Pause</button>' +
        '<button type="button" class="small" data-action="resume" hidden>Resume</button>' +
        '<button type="button" class="small" data-action="cancel">Cancel</button></span></div>' +
        '<div class="progress small"><div class="bar" style="width:0%"></div></div>' +
        '<div class="upload-status"><span class="status-pill" data-role="state"></span> ' +
        '<span data-role="detail" class="muted"></span></div>';
      row.querySelector(".upload-name").textContent = this.file.name;
      row.querySelector(".upload-size").textContent = formatBytes(this.file.size);
      row.querySelector('[data-action="pause"]').addEventListener("click", () => this.pause());
      row.querySelector('[data-action="resume"]').addEventListener("click", () => this.resume());
      row.querySelector('[data-action="cancel"]').addEventListener("click", () => this.cancel());
      list.appendChild(row);
      return row;
    }

    show(state, detail, isError) {
      this.state = state;
      this.row.dataset.state = state;
      const pill = this.row.querySelector('[data-role="state"]');
      pill.textContent = state;
      pill.className = "status-pill status-" + state;
      const detailEl = this.row.querySelector('[data-role="detail"]');
      detailEl.textContent = detail || "";
      detailEl.classList.toggle("error", Boolean(isError));
      const busy = ["waiting", "uploading", "retrying"].includes(state);
      this.row.querySelector('[data-action="pause"]').hidden = !busy;
      this.row.querySelector('[data-action="resume"]').hidden = state !== "paused";
      this.row.querySelector('[data-action="cancel"]').hidden = !(busy || state === "paused");
      updateTotals();
    }

    showLink(text, url) {
      const detailEl = this.row.querySelector('[data-role="detail"]');
      detailEl.textContent = text + " ";
      const link = document.createElement("a");
      link.href = url;
      link.textContent = "Open video →";
      detailEl.appendChild(link);
    }

    setBar(sent) {
      const percent = this.file.size ? Math.floor((sent / this.file.size) * 100) : 100;
      this.row.querySelector(".bar").style.width = percent + "%";
    }

    progressText(sent) {
      const now = performance.now();
      this.samples.push([now, sent]);
      while (this.samples.length > 2 && now - this.samples[0][0] > 5000) this.samples.shift();
      const [t0, b0] = this.samples[0];
      const speed = now > t0 ? ((sent - b0) * 1000) / (now - t0) : 0;
      const percent = this.file.size ? Math.floor((sent / this.file.size) * 100) : 100;
      let text = percent + "% · " + formatBytes(sent) + " of " + formatBytes(this.file.size);
      if (speed > 0) {
        text += " · " + formatBytes(speed) + "/s · " + formatDuration((this.file.size - sent) / speed) + " left";
      }
      return text;
    }

    // --- protocol ---------------------------------------------------------------------------------------

    async start() {
      if (this.file.size > maxBytes) {
        this.show("failed", "Larger than the upload limit of " + formatBytes(maxBytes) + ".", true);
        return;
      }
      this.show("uploading", "Starting…");
      try {
        const done = await this.findOrCreate();
        if (done) this.finished(done);
        else if (this.state === "uploading") this.sendNext();
      } catch (error) {
        this.networkTrouble(error);
      }
    }

    // Returns the upload's JSON when it is already complete (finished from another tab or browser while this
    // one was retrying): then there is nothing to send, and starting over would store the file a second time.
    async findOrCreate() {
      const savedId = localStorage.getItem(storeKey(this.file));
      if (savedId) {
        const response = await request("GET", uploadUrl(savedId));
        if (response.ok) {
          const data = await response.json();
          if (data.status !== "receiving" && data.video) {
            this.id = savedId;
            return data;
          }
          if (data.status === "receiving") {
            this.id = savedId;
            this.offset = data.offset;
            this.show("uploading", "Resuming at " + formatBytes(this.offset) + "…");
            removeUnfinishedRow(savedId);
            return null;
          }
        }
        localStorage.removeItem(storeKey(this.file));
      }
      const response = await request("POST", collectionUrl, JSON.stringify({
        filename: this.file.name, size: this.file.size, head_sha256: await headDigest(this.file),
      }), { "Content-Type": "application/json" });
      const data = await response.json();
      if (!response.ok) throw new ProtocolError(data.error || "The server refused the upload.");
      this.id = data.id;
      this.offset = data.offset;
      localStorage.setItem(storeKey(this.file), this.id);
      if (data.resumed) { // begun in another browser (or before this browser forgot it)
        this.show("uploading", "Resuming at " + formatBytes(this.offset) + " (begun earlier)…");
        removeUnfinishedRow(data.id);
      }
      return null;
    }

    sendNext() {
      if (this.state !== "uploading") return;
      const end = Math.min(this.offset + chunkBytes, this.file.size);
      const xhr = new XMLHttpRequest();
      this.xhr = xhr;
      xhr.open("PATCH", uploadUrl(this.id));
      xhr.setRequestHeader("X-CSRFToken", csrfToken);
      xhr.setRequestHeader("Upload-Offset", String(this.offset));
      xhr.setRequestHeader("Content-Type", "application/offset+octet-stream");
      xhr.responseType = "json";
      const base = this.offset;
      xhr.upload.onprogress = (event) => {
        const sent = base + event.loaded;
        this.setBar(sent);
        this.row.querySelector('[data-role="detail"]').textContent = this.progressText(sent);
      };
      xhr.onload = () => this.chunkAnswered(xhr);
      xhr.onerror = () => this.networkTrouble(new Error("network error"));
      xhr.ontimeout = () => this.networkTrouble(new Error("timed out"));
      xhr.send(this.file.slice(this.offset, end));
    }

    chunkAnswered(xhr) {
      this.xhr = null;
      const data = xhr.response || {};
      if (xhr.status === 200) {
        this.retries = 0;
        this.offset = data.offset;
        this.setBar(this.offset);
        if (data.status === "receiving") this.sendNext();
        else this.finished(data);
      } else if (xhr.status === 409 && typeof data.offset === "number" && data.offset >= this.file.size) {
        this.start(); // completed elsewhere meanwhile: start() reads the finished upload instead of sending
      } else if (xhr.status === 409 && typeof data.offset === "number") {
        this.offset = data.offset; // the server has a different amount: continue from its offset
        this.sendNext();
      } else if (xhr.status === 507) {
        this.show("paused", data.error || "The server's disk is full.", true); // resume once space is freed
        schedule();
      } else if (xhr.status >= 500 || xhr.status === 0 || xhr.status === 429) {
        this.networkTrouble(new Error("server answered " + xhr.status));
      } else {
        this.fail(data.error || "The server refused the chunk (HTTP " + xhr.status + ").");
      }
    }

    networkTrouble(error) {
      this.xhr = null;
      if (error instanceof ProtocolError) { this.fail(error.message); return; }
      if (this.state === "paused" || this.state === "cancelled") return;
      this.retries += 1;
      if (this.retries > MAX_RETRIES) {
        this.show("paused", "Connection lost. Press Resume to try again.", true);
        schedule();
        return;
      }
      const delay = Math.min(1000 * 2 ** (this.retries - 1), 30000);
      this.show("retrying", "Connection problem (" + error.message + "); retrying in " + Math.round(delay / 1000) + " s…");
      setTimeout(() => { if (this.state === "retrying") this.start(); }, delay);
    }

    finished(data) {
      localStorage.removeItem(storeKey(this.file));
      this.setBar(this.file.size);
      const video = data.video;
      if (data.status === "duplicate") {
        this.show("duplicate", "");
        this.showLink("Already in your library as “" + video.title + "”.", video.url);
      } else {
        this.videoUpdate(video);
        if (video.probe_job_id) entriesByJob.set(video.probe_job_id, this);
        this.poll(); // covers a job that finished before the live socket heard of it
      }
      schedule();
    }

    videoUpdate(video) {
      this.video = video;
      if (video.status === "ready") {
        this.show("ready", "");
        this.showLink("Ready.", video.url);
      } else if (video.status === "failed") {
        this.show("failed", video.error || "The file could not be processed.", true);
        const detail = this.row.querySelector('[data-role="detail"]');
        detail.append(" ");
        const link = document.createElement("a");
        link.href = video.url;
        link.textContent = "details";
        detail.appendChild(link);
      } else {
        this.show("processing", "Uploaded; reading the video (duration, frames, poster)…");
      }
    }

    async poll() {
      if (!["processing"].includes(this.state)) return;
      try {
        const response = await request("GET", uploadUrl(this.id));
        if (response.ok) this.videoUpdate((await response.json()).video);
      } catch (error) { /* the next poll or a live event will tell */ }
      if (this.state === "processing") setTimeout(() => this.poll(), 4000);
    }

    fail(message) {
      this.show("failed", message, true);
      schedule();
    }

    pause() {
      if (this.xhr) { const xhr = this.xhr; this.xhr = null; xhr.onerror = null; xhr.onload = null; xhr.abort(); }
      this.show("paused", "Paused at " + formatBytes(this.offset) + ".");
      schedule();
    }

    resume() {
      this.retries = 0;
      this.show("waiting", "Waiting for a free slot…");
      schedule();
    }

    async cancel() {
      this.pause();
      this.show("cancelled", "Cancelled.");
      localStorage.removeItem(storeKey(this.file));
      if (this.id) {
        try { await request("DELETE", uploadUrl(this.id)); } catch (error) { /* nothing left to do */ }
      }
    }
  }

  class ProtocolError extends Error {}

  // --- helpers --------------------------------------------------------------------------------------------

  function uploadUrl(id) {
    return collectionUrl + encodeURIComponent(id) + "/";
  }

  function request(method, url, body, headers) {
    return fetch(url, {
      method, body, credentials: "same-origin",
      headers: Object.assign({ "X-CSRFToken": csrfToken, Accept: "application/json" }, headers || {}),
    });
  }

  // SHA-256 of the file's first MiB, hex; null where the browser offers no WebCrypto (plain http on another
  // host than localhost), and then only this browser's localStorage finds the upload again.
  async function headDigest(file) {
    if (!(window.crypto && window.crypto.subtle)) return null;
    const digest = await window.crypto.subtle.digest("SHA-256", await file.slice(0, HEAD_BYTES).arrayBuffer());
    return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  function removeUnfinishedRow(id) {
    const row = document.querySelector('tr[data-upload-id="' + id + '"]');
    if (row) row.remove();
  }

  function schedule() {
    const active = entries.filter((entry) => ["uploading", "retrying"].includes(entry.state)).length;
    let free = PARALLEL - active;
    for (const entry of entries) {
      if (free <= 0) break;
      if (entry.state === "waiting") { free -= 1; entry.start(); }
    }
    updateTotals();
  }

  function updateTotals() {
    if (!entries.length) return;
    toolbar.hidden = false;
    const count = (state) => entries.filter((entry) => entry.state === state).length;
    const parts = [entries.length + " file" + (entries.length === 1 ? "" : "s")];
    ["uploading", "waiting", "paused", "processing", "ready", "duplicate", "failed"].forEach((state) => {
      const n = count(state);
      if (n) parts.push(n + " " + state);
    });
    totalLine.textContent = parts.join(" · ");
  }

  function addFiles(files) {
    for (const file of files) {
      const busy = entries.find((entry) => storeKey(entry.file) === storeKey(file) &&
        !["failed", "cancelled", "ready", "duplicate"].includes(entry.state));
      if (busy) continue; // the same file is already on its way
      const entry = new Entry(file);
      entries.push(entry);
      entry.show("waiting", "Waiting for a free slot…");
    }
    schedule();
  }

  // --- page wiring ----------------------------------------------------------------------------------------

  zone.addEventListener("click", (event) => {
    if (event.target.tagName !== "LABEL" && event.target.tagName !== "A") input.click();
  });
  zone.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); input.click(); }
  });
  input.addEventListener("change", () => { addFiles(Array.from(input.files)); input.value = ""; });
  ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  }));
  ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
  }));
  zone.addEventListener("drop", (event) => addFiles(Array.from(event.dataTransfer.files)));

  document.getElementById("pause-all").addEventListener("click", () => {
    entries.filter((e) => ["uploading", "waiting", "retrying"].includes(e.state)).forEach((e) => e.pause());
  });
  document.getElementById("resume-all").addEventListener("click", () => {
    entries.filter((e) => e.state === "paused").forEach((e) => e.resume());
  });
  document.getElementById("clear-finished").addEventListener("click", () => {
    for (let i = entries.length - 1; i >= 0; i -= 1) {
      if (["ready", "duplicate", "failed", "cancelled"].includes(entries[i].state)) {
        entries[i].row.remove();
        entries.splice(i, 1);
      }
    }
    updateTotals();
  });
  document.querySelectorAll("[data-discard-upload]").forEach((button) => {
    button.addEventListener("click", async () => {
      const id = button.dataset.discardUpload;
      await request("DELETE", uploadUrl(id));
      Object.keys(localStorage).forEach((key) => {
        if (key.startsWith(STORE_PREFIX) && localStorage.getItem(key) === id) localStorage.removeItem(key);
      });
      removeUnfinishedRow(id);
    });
  });
  window.addEventListener("beforeunload", (event) => {
    if (entries.some((entry) => ["uploading", "retrying", "waiting"].includes(entry.state))) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  window.addEventListener("online", () => {
    entries.filter((e) => e.state === "retrying" || (e.state === "paused" && e.retries > MAX_RETRIES))
      .forEach((e) => { e.retries = 0; e.show("waiting", "Back online…"); });
    schedule();
  });

  // Live job events tell when the probe of an uploaded file finishes.
  if (window.OffsideJobs) {
    window.OffsideJobs.connect("/ws/jobs/", (event) => {
      const entry = entriesByJob.get(event.id);
      if (!entry || !TERMINAL_JOB.includes(event.status)) return;
      entry.poll();
    });
  }
  window.OffsideUploads = { addFiles, entries };
})();
