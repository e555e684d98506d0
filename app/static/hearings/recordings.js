/* 查看录像: play a recording in the page (the player seeks with Range requests); confirm deletions. */
(function () {
  "use strict";
  var box = document.getElementById("player-box"), player = document.getElementById("player");
  document.querySelectorAll("[data-play]").forEach(function (b) {
    b.addEventListener("click", function () {
      box.classList.remove("hidden");
      player.src = b.dataset.play;
      player.play().catch(function () {});
    });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) { if (!window.confirm(f.dataset.confirm)) { e.preventDefault(); } });
  });
})();
