// Inlet console: progressive enhancement only; every page works without it.
// - Forms with data-confirm ask before they are sent.
// - A page whose <body> has data-refresh="N" reloads itself every N seconds while visible.
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
(function () {
  var seconds = parseInt(document.body.getAttribute("data-refresh") || "", 10);
  if (!(seconds > 0)) { return; }
  window.setInterval(function () {
    if (document.visibilityState === "visible") { window.location.reload(); }
  }, seconds * 1000);
})();
