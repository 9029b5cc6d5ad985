// Polls the batch status while an import runs, then reloads once to show the errors table.
(function () {
  const box = document.getElementById("batch-status");
  if (!box || box.dataset.finished === "true") return;
  const url = box.dataset.statusUrl;
  const set = (name, value) => {
    const el = box.querySelector(`[data-field="${name}"]`);
    if (!el) return;
    if (el.tagName === "PROGRESS") el.value = value; else el.textContent = value;
  };
  async function poll() {
    try {
      const response = await fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"});
      if (response.ok) {
        const s = await response.json();
        ["status_label", "stage", "percent", "total", "created", "updated", "unchanged", "rejected"].forEach((k) => set(k, s[k]));
        if (s.finished) { window.location.reload(); return; }
      }
    } catch (e) { /* network hiccup: try again */ }
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 500);
})();
