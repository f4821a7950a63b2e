// Video pages: live status of videos being processed, and the player helpers of the detail page
// (set clip start/end from the player's current time, seek by clicking the thumbnail strip).
(function () {
  "use strict";

  const TERMINAL = ["succeeded", "failed", "cancelled"];

  // Rows of the video table waiting for a probe job carry data-probe-job: the table is fetched again when
  // one of them ends and whenever its socket opens (a probe may have ended between drawing and listening).
  // The video's own page reloads through jobs.js (data-reload-when-ended).
  function watchProbeJobs() {
    if (!window.OffsideJobs || !document.getElementById("video-table")) return;
    const refresh = () => { if (window.OffsideJobs.refreshLists) window.OffsideJobs.refreshLists(); };
    // Rows are looked up when an event comes: a row that joined the list after the page loaded counts too.
    window.OffsideJobs.connect("/ws/jobs/", (event) => {
      if (TERMINAL.includes(event.status) && document.querySelector('[data-probe-job="' + event.id + '"]')) refresh();
    }, refresh, () => { if (document.querySelector("[data-probe-job]")) refresh(); });
  }

  function formatSeconds(seconds) {
    return (Math.round(seconds * 1000) / 1000).toFixed(3);
  }

  function wirePlayer() {
    const player = document.getElementById("player");
    if (!player) return;
    document.querySelectorAll("[data-set-from-player]").forEach((button) => {
      button.addEventListener("click", () => {
        const target = document.getElementById(button.dataset.setFromPlayer);
        target.value = formatSeconds(player.currentTime);
        target.dispatchEvent(new Event("input"));
      });
    });
    document.querySelectorAll("[data-seek]").forEach((link) => {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        player.currentTime = parseFloat(link.dataset.seek);
        player.play().catch(() => {});
      });
    });
    const clock = document.getElementById("player-time");
    if (clock) player.addEventListener("timeupdate", () => { clock.textContent = formatSeconds(player.currentTime) + " s"; });
    const strip = document.getElementById("thumb-strip");
    if (strip) {
      strip.addEventListener("click", (event) => {
        const box = strip.getBoundingClientRect();
        const duration = player.duration || parseFloat(strip.dataset.duration) || 0;
        player.currentTime = ((event.clientX - box.left) / box.width) * duration;
      });
    }
    // Editor-style keys: I sets the start (in point), O the end (out point), from the current time.
    document.addEventListener("keydown", (event) => {
      const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
      if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
      const target = { i: "id_start_s", o: "id_end_s" }[event.key.toLowerCase()];
      const button = target && document.querySelector('[data-set-from-player="' + target + '"]');
      if (button && !button.disabled) { event.preventDefault(); button.click(); }
    });
    const notice = document.getElementById("player-error");
    player.addEventListener("error", () => { if (notice) notice.hidden = false; });
    wireRangePreview();
  }

  // Shows the picked range as "start – end (length)" under the inputs.
  function wireRangePreview() {
    const start = document.getElementById("id_start_s");
    const end = document.getElementById("id_end_s");
    const preview = document.getElementById("range-preview");
    if (!start || !end || !preview) return;
    const fps = parseFloat(preview.dataset.fps) || 5;
    function update() {
      const a = parseFloat(start.value);
      const b = parseFloat(end.value);
      if (isNaN(a) && isNaN(b)) { preview.textContent = "Whole video."; return; }
      if (!isNaN(a) && !isNaN(b) && b > a) {
        preview.textContent = (b - a).toFixed(2) + " s selected · about " + Math.ceil((b - a) * fps) +
          " frames at " + fps + " fps";
      } else if (!isNaN(a) && !isNaN(b)) {
        preview.textContent = "The end must come after the start.";
      } else {
        preview.textContent = isNaN(a) ? "From the beginning." : "Until the end of the video.";
      }
    }
    start.addEventListener("input", update);
    end.addEventListener("input", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", () => { watchProbeJobs(); wirePlayer(); });
})();
