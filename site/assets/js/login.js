// The sign-in page: e-mail and password to POST /api/login, which sets the
// session cookies; then back to ?next= if it is a path on this site, else
// to the "me" page.
import { api } from "./api.js";

const root = document.getElementById("login");
const lang = root.dataset.lang;
const t = JSON.parse(root.dataset.text);
const $ = (id) => document.getElementById(id);

// safeNext returns next when it is a path on this site, and "" otherwise
// (an absolute URL, a protocol-relative //host, a backslash trick).
export function safeNext(next, origin) {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.includes("\\")) return "";
  try {
    const u = new URL(next, origin);
    return u.origin === origin ? u.pathname + u.search + u.hash : "";
  } catch {
    return "";
  }
}

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const email = $("email").value.trim();
  const password = $("password").value;
  const err = $("error");
  err.textContent = "";
  if (!email || !password) {
    err.textContent = t.missing;
    return;
  }
  const button = e.submitter || root.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await api("POST", "/login", { email, password });
    const next = safeNext(new URLSearchParams(location.search).get("next"), location.origin);
    location.assign(next || `/${lang}/me/`);
  } catch (x) {
    if (x.status === 401) err.textContent = t.wrong;
    else if (x.status === 429) err.textContent = t.limited;
    else err.textContent = `${t.failed} ${x.message}`;
    $("password").value = "";
    $("password").focus();
  } finally {
    button.disabled = false;
  }
});
