// The users page (admins): every account with its role and state; change a
// role, deactivate or activate, delete after a confirmation.
import { api, signInURL } from "./api.js";

const root = document.getElementById("admin");
const lang = root.dataset.lang;
const t = JSON.parse(root.dataset.text);
const $ = (id) => document.getElementById(id);
const fill = (s, v) => s.replace(/\{(\w+)\}/g, (m, k) => (k in v ? v[k] : m));

function el(tag, props = {}, ...children) {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString(lang === "zh" ? "zh-CN" : "en") : "";
}

let me;

// act runs one change, says what happened, and reloads the list.
async function act(run, done) {
  $("error").textContent = "";
  $("status").textContent = "";
  try {
    await run();
    $("status").textContent = done;
  } catch (x) {
    $("error").textContent = `${t.failed} ${x.message}`;
  }
  await load();
}

// confirmDelete opens the dialog and resolves whether the admin confirmed.
function confirmDelete(u) {
  const d = $("confirm");
  $("confirm-text").textContent = fill(t.confirmtext, { name: u.name || u.email, email: u.email });
  return new Promise((resolve) => {
    d.addEventListener("close", () => resolve(d.returnValue === "delete"), { once: true });
    d.returnValue = "";
    d.showModal();
    $("confirm-cancel").focus();
  });
}

function row(u) {
  const who = u.name || u.email || u.id;
  const role = el("select", { id: `role-${u.id}` });
  role.setAttribute("aria-label", fill(t.rolelabel, { name: who }));
  for (const r of ["trainee", "lecturer", "admin"]) role.append(el("option", { value: r, selected: r === u.role }, t.roles[r]));
  role.addEventListener("change", () =>
    act(() => api("PATCH", `/users/${encodeURIComponent(u.id)}`, { role: role.value }), fill(t.saved, { name: who, role: t.roles[role.value] })),
  );
  const deactivated = u.state === "deactivated";
  const toggle = el("button", { type: "button", className: deactivated ? "activate" : "deactivate" }, deactivated ? t.activate : t.deactivate);
  toggle.setAttribute("aria-label", fill(deactivated ? t.activatelabel : t.deactivatelabel, { name: who }));
  toggle.addEventListener("click", () =>
    act(
      () => api("POST", `/users/${encodeURIComponent(u.id)}/${deactivated ? "activate" : "deactivate"}`),
      fill(deactivated ? t.activated : t.deactivated, { name: who }),
    ),
  );
  const del = el("button", { type: "button", className: "delete" }, t.delete);
  del.setAttribute("aria-label", fill(t.deletelabel, { name: who }));
  del.addEventListener("click", async () => {
    if (await confirmDelete(u)) act(() => api("DELETE", `/users/${encodeURIComponent(u.id)}`), fill(t.deleted, { name: who }));
    else del.focus();
  });
  const tr = el(
    "tr",
    { id: `user-${u.id}` },
    el("td", {}, u.name || "", u.id === me.id ? ` ${t.you}` : ""),
    el("td", {}, u.email || ""),
    el("td", {}, role),
    el("td", { className: "state" }, t.states[u.state] || u.state || ""),
    el("td", {}, when(u.created)),
    el("td", {}, toggle, " ", del),
  );
  tr.dataset.state = u.state || "";
  return tr;
}

async function load() {
  try {
    me = me || (await api("GET", "/me")).user;
  } catch (x) {
    if (x.status === 401) return location.assign(signInURL(lang));
    $("error").textContent = `${t.failed} ${x.message}`;
    return;
  }
  if (me.role !== "admin") {
    $("forbidden").hidden = false;
    return;
  }
  let users;
  try {
    users = await api("GET", "/users");
  } catch (x) {
    $("error").textContent = `${t.failed} ${x.message}`;
    return;
  }
  $("users").querySelector("tbody").replaceChildren(...users.map(row));
  $("users").hidden = false;
  root.dataset.loaded = String(Number(root.dataset.loaded || 0) + 1);
}

load();
