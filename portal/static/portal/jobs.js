/* Follow a job queued for the worker (sync.jobs): poll its status URL, show its progress, then its
   summary; every [data-job-button] on the page stays disabled while it is queued or running. A
   panel's [data-job-reload] link shows once the job has finished, to reload what it changed. */
(function () {
  "use strict";
  var COLORS = { success: "#2e7d32", warning: "#b26a00", error: "#ba2121", queued: "#6b7785", running: "#1f6fb2" };

  function setBusy(busy) {
    document.querySelectorAll("[data-job-button]").forEach(function (button) {
      button.disabled = busy;
      button.setAttribute("aria-disabled", busy ? "true" : "false");
    });
  }

  function show(panel, state, level, text) {
    panel.dataset.jobState = state;
    panel.dataset.jobLevel = level || "";
    panel.className = "job-panel job-" + (state === "finished" ? level : state);
    panel.style.borderLeftColor = COLORS[state === "finished" ? level : state] || "#c8d1dc";
    panel.querySelector("[data-job-text]").textContent = text;
  }

  function follow(panel) {
    var url = panel.dataset.jobStatusUrl;
    function tick() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error("status " + response.status); }
          return response.json();
        })
        .then(function (data) {
          if (data.finished) {
            show(panel, "finished", data.level, data.summary);
            setBusy(false);
            var reload = panel.querySelector("[data-job-reload]");
            if (reload) { reload.hidden = false; }
          } else {
            show(panel, data.state, "", data.progress);
            setBusy(true);
            window.setTimeout(tick, 700);
          }
        })
        .catch(function () { window.setTimeout(tick, 3000); });
    }
    if (panel.dataset.jobState !== "finished") { setBusy(true); }
    show(panel, panel.dataset.jobState, panel.className.replace("job-panel job-", ""), panel.querySelector("[data-job-text]").textContent);
    tick();
  }

  function start() {
    document.querySelectorAll("[data-job-status-url]").forEach(follow);
    // A pressed job button is disabled once its form is on its way (not before: its value must be sent).
    document.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (button && button.hasAttribute("data-job-button")) {
        window.setTimeout(function () { setBusy(true); }, 0);
      }
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
