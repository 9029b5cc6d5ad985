// "Select all" checkbox for the bulk actions of the portfolio table.
(function () {
  const all = document.querySelector("[data-select-all]");
  if (!all) return;
  all.addEventListener("change", () => {
    document.querySelectorAll("input[name=selected]").forEach((box) => { box.checked = all.checked; });
  });
})();
