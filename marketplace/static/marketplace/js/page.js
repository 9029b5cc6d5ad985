// Behaviour every page shares, kept out of the HTML so the Content-Security-Policy can refuse inline script
// and inline style attributes.
(function () {
  "use strict";
  function ready() {
    // <select data-autosubmit>: choosing a value submits its form (language switch, holder switch).
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    // <select data-navigate>: choosing an option goes to its address (the language switch of cached pages).
    document.querySelectorAll("select[data-navigate]").forEach(function (select) {
      select.addEventListener("change", function () { window.location.assign(select.value); });
    });
    // <span data-bar-width="42">: a bar chart's bar, as wide as that percentage of its track.
    document.querySelectorAll("[data-bar-width]").forEach(function (bar) {
      var width = parseFloat(bar.getAttribute("data-bar-width"));
      if (!isNaN(width)) { bar.style.width = Math.max(0, Math.min(100, width)) + "%"; }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", ready); } else { ready(); }
})();
