// Nurse login: keep the password for one page load so the dashboard can unwrap this device's
// end-to-end keys without asking twice. The dashboard removes it as soon as it has used it.
const form = document.querySelector("form.login");
if (form) {
  form.addEventListener("submit", () => {
    const pw = /** @type {HTMLInputElement} */ (document.getElementById("password")).value;
    try { sessionStorage.setItem("helseprat.unlock", pw); } catch { /* private mode: asks later */ }
  });
}
