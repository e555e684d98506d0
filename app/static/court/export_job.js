// 我的导出 › one job, and a 批量导入 job: polls its status until the work is done (court/export_job.html,
// court/import_job.html; an import's page reloads when done to show the outcome).
// A static file rather than an inline script: the Content-Security-Policy allows only the app's own
// scripts and nonce'd blocks (app/serving.py).
(function () {
  var box = document.getElementById("export-job") || document.getElementById("import-job");
  if (!box) { return; }
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (s) {
      var pct = s.total ? Math.round(100 * s.done / s.total) : 0;
      var bar = document.getElementById("job-bar");
      bar.style.width = pct + "%"; bar.textContent = pct + "%"; bar.setAttribute("aria-valuenow", pct);
      document.getElementById("job-label").textContent = s.label;
      document.getElementById("job-count").textContent = s.done + " / " + s.total;
      document.getElementById("job-error").textContent = s.error || "";
      var download = document.getElementById("job-download");
      if (s.download && download) { download.classList.remove("hidden"); }
      if (s.pending) { setTimeout(poll, 1500); } else if (box.dataset.reloadWhenDone) { window.location.reload(); }
    });
  }
  if (box.dataset.pending) { poll(); }
})();
