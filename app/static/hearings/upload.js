/* 上传录音录像: the file goes as the raw request body, so the server streams it into the file store. */
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  var T = JSON.parse(document.getElementById("upload-text").textContent);
  var bar = document.getElementById("upload-bar"), progress = document.getElementById("upload-progress");
  var error = document.getElementById("upload-error");
  function fail(text) { error.textContent = text; error.classList.remove("hidden"); progress.classList.add("hidden");
    document.getElementById("upload").disabled = false; }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var file = document.getElementById("file").files[0];
    error.classList.add("hidden");
    if (!file) { fail(T.choose); return; }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.url);
    xhr.setRequestHeader("X-CSRFToken", form.dataset.csrf);
    xhr.setRequestHeader("X-File-Name", encodeURIComponent(file.name));
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = function (ev) {
      if (ev.lengthComputable) { var pct = Math.round(100 * ev.loaded / ev.total); bar.style.width = pct + "%"; bar.textContent = pct + "%"; }
    };
    xhr.onload = function () {
      var j = null;
      try { j = JSON.parse(xhr.responseText); } catch (err) { /* not JSON */ }
      if (xhr.status === 200 && j && j.status === "ok") { window.location = j.redirect; return; }
      fail(j && j.reason ? j.reason : T.failed);
    };
    xhr.onerror = function () { fail(T.failed); };
    progress.classList.remove("hidden");
    document.getElementById("upload").disabled = true;
    xhr.send(file);
  });
})();
