// The invitation page: the secret comes in the URL's fragment (never sent
// to a server); it is taken out of the address bar at once, then sent once
// with the chosen password to POST /api/invitations/accept.
import { api } from "./api.js";

const root = document.getElementById("invite");
const lang = root.dataset.lang;
// Hugo lowercases front matter keys: the texts arrive as t.notoken etc.
const t = JSON.parse(root.dataset.text);
const $ = (id) => document.getElementById(id);

const token = decodeURIComponent(location.hash.slice(1));
if (location.hash) history.replaceState(null, "", location.pathname + location.search);
if (!token) {
  $("error").textContent = t.notoken;
  $("invite-form").querySelector("button").disabled = true;
}

$("invite-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const err = $("error");
  const password = $("password").value;
  err.textContent = "";
  if ([...password].length < 10) {
    err.textContent = t.short;
    return;
  }
  if (password !== $("again").value) {
    err.textContent = t.differ;
    return;
  }
  const button = root.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await api("POST", "/invitations/accept", { token, password, name: $("name").value.trim() });
    location.assign(`/${lang}/me/`);
  } catch (x) {
    const known = { 404: t.notfound, 409: t.used, 410: t.expired };
    err.textContent = known[x.status] || `${t.failed} ${x.message}`;
    button.disabled = x.status in known; // a dead link stays dead
  }
});
