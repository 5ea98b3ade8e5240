// The lab page: start a lab session, work in its nodes' terminals, check the
// steps, watch the time. It talks to labd's API and nothing else.
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import { TTY } from "./tty.js";

const root = document.getElementById("lab");
const lang = root.dataset.lang;
const t = JSON.parse(root.dataset.i18n);
const $ = (id) => document.getElementById(id);
const labID = new URLSearchParams(location.search).get("id") || "";
const TOKEN = "labd.token";

class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const headers = { Authorization: "Bearer " + sessionStorage.getItem(TOKEN) };
  if (body) headers["Content-Type"] = "application/json";
  const r = await fetch("/api" + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  if (r.status === 204) return null;
  const data = await r.json().catch(() => ({}));
  if (!r.ok) {
    const e = data.error || {};
    if (r.status === 401) askToken();
    throw new APIError(r.status, e.code, e.message || r.statusText);
  }
  return data;
}

function text(v) {
  return v ? v[lang] || v.en || "" : "";
}

function status(msg, kind) {
  const s = $("status");
  s.textContent = msg;
  s.dataset.kind = kind || "";
}

function askToken() {
  $("token-form").hidden = false;
}

$("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN, $("token").value.trim());
  location.reload();
});

let lab, session, timer;
const ttys = {};
window.academyLab = { ttys }; // for tests and the curious

async function load() {
  if (!sessionStorage.getItem(TOKEN)) return askToken();
  try {
    lab = await api("GET", "/labs/" + encodeURIComponent(labID));
  } catch (e) {
    return status(e.message, "error");
  }
  document.title = text(lab.title) + " · " + document.title;
  $("lab-title").textContent = text(lab.title);
  $("summary").textContent = text(lab.summary);
  renderSteps();
  const live = await api("GET", "/sessions?live=1");
  const mine = live.find((s) => s.lab === lab.id);
  if (mine) show(await waitReady(mine));
}

function renderSteps() {
  const ol = $("steps");
  ol.replaceChildren();
  for (const st of lab.steps) {
    const li = document.createElement("li");
    li.id = "step-" + st.id;
    const h = document.createElement("h3");
    h.textContent = text(st.title);
    const btn = document.createElement("button");
    btn.type = "button";
    btn.textContent = t.check;
    btn.className = "check";
    btn.disabled = true;
    btn.addEventListener("click", () => check(st.id, li, btn));
    const out = document.createElement("output");
    li.append(h, btn, out);
    if (st.hint) {
      const d = document.createElement("details");
      const s = document.createElement("summary");
      s.textContent = t.hint;
      const p = document.createElement("p");
      p.textContent = text(st.hint);
      d.append(s, p);
      li.append(d);
    }
    ol.append(li);
  }
}

async function check(step, li, btn) {
  btn.disabled = true;
  const out = li.querySelector("output");
  out.textContent = t.checking;
  try {
    const r = await api("POST", `/sessions/${session.id}/steps/${step}/check`);
    li.dataset.passed = r.passed;
    out.textContent = r.passed ? "✓ " + t.passed : r.output.replace(/^FAIL: ?/gm, "") || t.failed;
  } catch (e) {
    out.textContent = e.message;
  }
  btn.disabled = false;
}

async function waitReady(s) {
  status(t.starting, "busy");
  while (s.state === "provisioning") s = await api("GET", `/sessions/${s.id}?wait=30s`);
  return s;
}

function show(s) {
  session = s;
  if (s.state !== "ready") {
    status(s.reason || s.state, "error");
    $("start").hidden = false;
    return;
  }
  status("");
  $("start").hidden = true;
  for (const b of ["extend", "reset", "end"]) $(b).hidden = false;
  for (const b of document.querySelectorAll("button.check")) b.disabled = false;
  for (const st of s.steps) {
    const li = $("step-" + st.id);
    if (li && st.passed) {
      li.dataset.passed = "true";
      li.querySelector("output").textContent = "✓ " + t.passed;
    }
  }
  tick();
  clearInterval(timer);
  timer = setInterval(tick, 1000);
  renderTabs(s.nodes.filter((n) => n.terminal));
}

function tick() {
  const left = Math.max(0, new Date(session.expires_at) - Date.now());
  const m = Math.floor(left / 60000), sec = Math.floor((left % 60000) / 1000);
  $("timer").textContent = `${t.timeLeft} ${m}:${String(sec).padStart(2, "0")}`;
}

function renderTabs(nodes) {
  const tabs = $("tabs"), panes = $("panes");
  tabs.replaceChildren();
  panes.replaceChildren();
  nodes.forEach((n, i) => {
    const tab = document.createElement("button");
    tab.type = "button";
    tab.role = "tab";
    tab.id = "tab-" + n.name;
    tab.textContent = n.name;
    tab.setAttribute("aria-controls", "pane-" + n.name);
    const pane = document.createElement("div");
    pane.id = "pane-" + n.name;
    pane.role = "tabpanel";
    pane.className = "pane";
    pane.setAttribute("aria-labelledby", tab.id);
    const state = document.createElement("span");
    state.className = "tty-state";
    tab.append(" ", state);
    tab.addEventListener("click", () => select(n.name));
    tabs.append(tab);
    panes.append(pane);
    if (i === 0) select(n.name);
  });
}

function select(node) {
  for (const tab of $("tabs").children) tab.setAttribute("aria-selected", tab.id === "tab-" + node);
  for (const pane of $("panes").children) pane.hidden = pane.id !== "pane-" + node;
  if (!ttys[node]) open(node);
  else ttys[node].fit.fit();
  ttys[node].term.focus();
}

function open(node) {
  const term = new Terminal({
    cursorBlink: true,
    fontSize: 14,
    fontFamily: '"DejaVu Sans Mono", "Noto Sans Mono CJK SC", "WenQuanYi Micro Hei Mono", monospace',
    scrollback: 5000,
    theme: { background: "#101418" },
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  const pane = $("pane-" + node);
  term.open(pane);
  fit.fit();
  const badge = $("tab-" + node).querySelector(".tty-state");
  const tty = new TTY({
    term,
    wsURL: (from, cols, rows) =>
      `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/sessions/${session.id}/nodes/${node}/terminal?from=${from}&cols=${cols}&rows=${rows}`,
    ticket: async () => {
      try {
        return (await api("POST", `/sessions/${session.id}/nodes/${node}/ticket`)).ticket;
      } catch (e) {
        if (e.status && e.status < 500) e.final = true;
        throw e;
      }
    },
    onState: (s, detail) => {
      badge.textContent = t[s] || s;
      badge.dataset.state = s;
      pane.dataset.state = s;
      if (s === "ended" && detail) term.write(`\r\n\x1b[2m[${detail}]\x1b[0m\r\n`);
    },
  });
  ttys[node] = { term, fit, tty };
  tty.connect();
}

window.addEventListener("resize", () => {
  for (const { fit } of Object.values(ttys)) fit.fit();
});

$("start").addEventListener("click", async () => {
  $("start").disabled = true;
  try {
    show(await waitReady(await api("POST", "/sessions", { lab: labID })));
  } catch (e) {
    status(e.message, "error");
  }
  $("start").disabled = false;
});

$("extend").addEventListener("click", async () => {
  try {
    session = await api("POST", `/sessions/${session.id}/extend`);
    tick();
  } catch (e) {
    status(e.message, "error");
  }
});

$("reset").addEventListener("click", async () => {
  for (const k of Object.keys(ttys)) {
    ttys[k].tty.end();
    delete ttys[k];
  }
  renderSteps();
  try {
    show(await waitReady(await api("POST", `/sessions/${session.id}/reset`)));
  } catch (e) {
    status(e.message, "error");
  }
});

$("end").addEventListener("click", async () => {
  await api("DELETE", `/sessions/${session.id}`).catch(() => {});
  for (const k of Object.keys(ttys)) ttys[k].tty.end();
  clearInterval(timer);
  location.reload();
});

load();
