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

  // After a swap, the keyboard goes to its result (marked data-focus by the server), not
  // to the page's body where a replaced element leaves it.
  document.addEventListener("htmx:afterSettle", function () {
    var result = document.querySelector("[data-focus]");
    if (!result) { return; }
    result.removeAttribute("data-focus");
    result.focus();
  });

  // Sign-up: the U.S. transfer notice matters only to people outside the U.S. Without
  // JavaScript it is always shown (and the server asks for it whenever it applies).
  function syncTransferNotice(root) {
    var select = root.querySelector("select[name=country]");
    var notice = root.querySelector("[data-transfer-notice]");
    if (!select || !notice) { return; }
    notice.hidden = select.value === "US";
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[name=country]")) {
      syncTransferNotice(event.target.form || document);
    }
  });
  document.addEventListener("DOMContentLoaded", function () { syncTransferNotice(document); });
  document.addEventListener("htmx:afterSettle", function () { syncTransferNotice(document); });
})();
