// Start page (and the privacy page): type to filter the list of schools and clinics; the
// quick exit and history rules of every youth page.
import "./exit.js";

const input = document.getElementById("service-search");
const list = document.getElementById("service-list");
const none = document.getElementById("no-match");

function filter() {
  const q = input.value.trim().toLowerCase();
  let shown = 0;
  for (const li of list.children) {
    const match = !q || (li.dataset.search || "").includes(q);
    li.hidden = !match;
    if (match) shown += 1;
  }
  if (none) none.hidden = shown !== 0;
}

if (input && list) {
  input.addEventListener("input", filter);
  const all = document.getElementById("show-all");
  if (all) all.addEventListener("click", () => { input.value = ""; filter(); input.focus(); });
}
