// "Select all" checkbox for the bulk actions of the portfolio table, and the declare button offered only while
// every selected patent can be declared (a lapsed, expired or invalidated one cannot; the server refuses it too).
(function () {
  const boxes = () => document.querySelectorAll("input[name=selected]");
  const declare = document.querySelector("[data-declare-selected]");
  const hint = document.querySelector("[data-declare-hint]");
  function offerDeclare() {
    if (!declare) return;
    const blocked = Array.from(boxes()).some((box) => box.checked && box.hasAttribute("data-not-declarable"));
    declare.disabled = blocked;
    if (hint) hint.hidden = !blocked;
  }
  const all = document.querySelector("[data-select-all]");
  if (all) {
    all.addEventListener("change", () => {
      boxes().forEach((box) => { box.checked = all.checked; });
      offerDeclare();
    });
  }
  boxes().forEach((box) => box.addEventListener("change", offerDeclare));
  offerDeclare();
})();
