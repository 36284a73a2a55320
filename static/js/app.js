/* Smart Scheduling: small enhancements on top of htmx. Every page works without this file. */
(function () {
  "use strict";

  function alertRegion() {
    return document.getElementById("alerts");
  }

  // A request that never reached the server (offline, server down) gets a visible message
  // instead of a silent no-op.
  document.addEventListener("htmx:sendError", function () {
    var region = alertRegion();
    if (!region) { return; }
    var box = document.createElement("div");
    box.className = "alert alert--error";
    box.setAttribute("role", "alert");
    box.textContent = "We could not reach the server. Check your connection and try again.";
    region.replaceChildren(box);
  });

  // After a partial swap, move keyboard focus to the element the server marked, so
  // screen-reader and keyboard users land where the change happened.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    if (!target) { return; }
    var focusable = target.matches("[data-autofocus]") ? target : target.querySelector("[data-autofocus]");
    if (focusable) { focusable.focus(); }
  });
})();
