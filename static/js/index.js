// Start page: type to filter the list of schools and clinics.
const input = document.getElementById("service-search");
const list = document.getElementById("service-list");
const none = document.getElementById("no-match");
if (input && list) {
  input.addEventListener("input", () => {
    const q = input.value.trim().toLowerCase();
    let shown = 0;
    for (const li of list.children) {
      const match = !q || (li.dataset.search || "").includes(q);
      li.hidden = !match;
      if (match) shown += 1;
    }
    if (none) none.hidden = shown !== 0;
  });
}
