// Behaviour every page shares, kept out of the HTML so the Content-Security-Policy can refuse inline script
// and inline style attributes.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var WIDE = "(min-width: 900px)";  // site.css's breakpoint between phones and wider screens

  // A cell holding one figure: a count, an amount ('¥20,000.00', '20,000.00 元'), a share ('25.0%'), years.
  var FIGURE = /^[-−+]?\s?¥?\s?\d[\d,]*(\.\d+)?\s?(%|元|年|yrs|years)?$/;
  var EMPTY = /^(—|–|-|)$/;
  var DATE = /^\d{4}-\d{2}(-\d{2})?( \d{2}:\d{2})?$/;

  function markNumericColumns(table) {
    // A column is numeric when every body cell with a value holds a figure: its cells and header align right.
    var rows = Array.prototype.filter.call(table.querySelectorAll("tbody tr, tfoot tr"), function (row) {
      return !row.querySelector("[colspan]");
    });
    if (!rows.length) { return; }
    var width = Math.max.apply(null, rows.map(function (row) { return row.cells.length; }));
    for (var col = 0; col < width; col++) {
      var seen = 0, figures = true, dates = true, letters = 0;
      rows.forEach(function (row) {
        var cell = row.cells[col];
        if (!cell) { return; }
        var text = cell.textContent.trim();
        letters += text.length;
        if (EMPTY.test(text)) { return; }
        seen++;
        if (!FIGURE.test(text)) { figures = false; }
        if (!DATE.test(text)) { dates = false; }
      });
      if (seen && dates) {  // dates never break at their hyphens
        rows.forEach(function (row) { if (row.cells[col]) { row.cells[col].classList.add("date"); } });
      }
      // A column of sentences (titles, reasons: 24+ characters on average) keeps a readable width.
      if (seen && letters / rows.length > 24) {
        rows.forEach(function (row) { if (row.cells[col]) { row.cells[col].classList.add("prose"); } });
      }
      if (!seen || !figures || col === 0) { continue; }
      rows.forEach(function (row) { if (row.cells[col]) { row.cells[col].classList.add("num"); } });
      var head = table.tHead && table.tHead.rows.length === 1 ? table.tHead.rows[0] : null;
      if (head && head.cells.length === width && head.cells[col]) { head.cells[col].classList.add("num"); }
    }
  }

  function labelOf(table) {
    if (table.caption && table.caption.textContent.trim()) { return table.caption.textContent.trim(); }
    if (table.getAttribute("aria-label")) { return table.getAttribute("aria-label"); }
    var node = table.previousElementSibling;
    while (node && !/^H[1-6]$/.test(node.tagName)) { node = node.previousElementSibling; }
    return node ? node.textContent.trim() : document.title;
  }

  // Every data table scrolls inside its own region, so a wide one never widens the page. A region that does
  // scroll is focusable (keyboard users can scroll it) and named after the table.
  function wrapTables() {
    document.querySelectorAll("main table.data").forEach(function (table) {
      if (table.parentElement.classList.contains("table-scroll")) { return; }
      var region = document.createElement("div");
      region.className = "table-scroll";
      table.parentNode.insertBefore(region, table);
      region.appendChild(table);
      markNumericColumns(table);
    });
    updateScrollRegions();
  }
  function updateScrollRegions() {
    // Measure every region first, then write: one layout for the page rather than one per table.
    var regions = Array.prototype.slice.call(document.querySelectorAll(".table-scroll"));
    var scrolls = regions.map(function (region) { return region.scrollWidth > region.clientWidth + 1; });
    regions.forEach(function (region, i) {
      var table = region.querySelector("table");
      var wide = scrolls[i] || (table && table.rows.length && table.rows[0].cells.length > 8);
      region.classList.toggle("wide", !!wide);
      if (scrolls[i]) {
        region.setAttribute("tabindex", "0");
        region.setAttribute("role", "region");
        region.setAttribute("aria-label", labelOf(table));
      } else if (region.hasAttribute("tabindex")) {
        region.removeAttribute("tabindex");
        region.removeAttribute("role");
        region.removeAttribute("aria-label");
      }
    });
  }

  // <details data-open-wide>: open beside the content on wide screens, folded above it on phones.
  function openWidePanels() {
    var wide = window.matchMedia(WIDE).matches;
    document.querySelectorAll("details[data-open-wide]").forEach(function (panel) { panel.open = wide; });
  }

  function navigation() {
    var nav = document.querySelector(".site-header .nav");
    var toggle = nav && nav.querySelector(".nav-toggle");
    if (toggle) {
      toggle.addEventListener("click", function () {
        var open = nav.classList.toggle("open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
    // The link of the section the page belongs to is marked current (the longest matching address wins).
    var best = null, bestLength = 0, here = window.location.pathname;
    document.querySelectorAll(".nav-links a[href]").forEach(function (link) {
      var path = link.pathname;
      if (path.length > 4 && here.indexOf(path) === 0 && path.length > bestLength) { best = link; bestLength = path.length; }
    });
    if (best) { best.setAttribute("aria-current", "page"); }
  }

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
    navigation();
    openWidePanels();
    wrapTables();
    var resizing = null;
    window.addEventListener("resize", function () {
      clearTimeout(resizing);
      resizing = setTimeout(updateScrollRegions, 150);
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", ready); } else { ready(); }
})();
