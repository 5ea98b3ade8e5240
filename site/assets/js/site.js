// site.js: the little every page needs, without a request to labd.
// Signed in (labd's readable labd_csrf cookie is there): the header's
// "sign in" link becomes "my learning". The verify form goes to /v/<code>.
const account = document.getElementById("nav-account");
if (account && /(?:^|;\s*)labd_csrf=/.test(document.cookie)) {
  account.href = account.dataset.me;
  account.textContent = account.dataset.meLabel;
}

for (const form of document.querySelectorAll("form[data-verify]")) {
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const code = new FormData(form).get("code").trim();
    if (code) location.href = "/v/" + encodeURIComponent(code);
  });
}

// The language switch keeps the query of a page that has a translation
// (a search, the exam's program).
if (location.search) {
  for (const a of document.querySelectorAll("a[data-lang-switch][data-translation]")) a.search = location.search;
}

// Printing opens the closed details (a lab's hints and solutions) and
// closes them again after; the stylesheet's print rule does the same where
// the browser has ::details-content.
let opened = [];
addEventListener("beforeprint", () => {
  opened = Array.from(document.querySelectorAll("details:not([open])"));
  for (const d of opened) d.open = true;
});
addEventListener("afterprint", () => {
  for (const d of opened) d.open = false;
  opened = [];
});
