// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Reason codes belong to one status: show only the reasons of the chosen status.
  var status = document.getElementById("d-status");
  var reason = document.getElementById("d-reason");
  if (status && reason) {
    var sync = function () {
      Array.prototype.forEach.call(reason.options, function (opt) {
        var owner = opt.getAttribute("data-status");
        opt.hidden = owner !== null && owner !== status.value;
      });
      var chosen = reason.options[reason.selectedIndex];
      if (chosen && chosen.hidden) { reason.value = ""; }
    };
    status.addEventListener("change", sync);
    sync();
  }
  // Keyboard: "/" jumps to the first filter, "g q" is not needed: Alt+Q opens the queue.
  document.addEventListener("keydown", function (e) {
    var tag = (e.target && e.target.tagName) || "";
    if (e.key === "/" && !/INPUT|TEXTAREA|SELECT/.test(tag)) {
      var first = document.querySelector(".filters select, .filters input:not([type=hidden])");
      if (first) { e.preventDefault(); first.focus(); }
    }
  });
  // Confirm before one disposition is applied to every line of the agency.
  var form = document.getElementById("disposition-form");
  if (form) {
    form.addEventListener("submit", function (e) {
      var line = document.getElementById("d-line");
      if (line && line.value === "all" && line.options.length > 2 &&
          !window.confirm("Record this status on every line of your agency?")) {
        e.preventDefault();
      }
    });
  }
})();
