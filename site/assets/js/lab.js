// The lab page: start a lab session, work in its nodes' terminals, check the
// steps, watch the time. The page (built from labs/<id>/) holds the lab's
// text and steps; this talks to labd's API through api.js and nothing else.
import { api, signInURL } from "./api.js";
import { initSteps } from "./steps.js";
import { renderPorts } from "./ports.js";

const root = document.getElementById("lab");
const t = JSON.parse(root.dataset.i18n);
const $ = (id) => document.getElementById(id);
const labID = root.dataset.lab;
const TOKEN = "labd.token";

// call is api() that turns a 401 into the sign-in notice.
async function call(method, path, body) {
  try {
    return await api(method, path, body);
  } catch (e) {
    if (e.status === 401) askSignIn();
    throw e;
  }
}

function status(msg, kind) {
  const s = $("status");
  s.textContent = msg;
  s.dataset.kind = kind || "";
}

function askSignIn() {
  $("signin-link").href = signInURL(root.dataset.lang);
  $("signin").hidden = false;
}

$("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN, $("token").value.trim());
  location.reload();
});

let session, timer, terminalModule;
const ttys = {};
const opening = {};

// terminals loads xterm.js and the tty.v1 client (terminal.js, about 90 KB)
// once, when a session is on its way: nobody who only reads the lab waits for it.
function terminals() {
  terminalModule ||= import(root.dataset.terminal);
  return terminalModule;
}
window.academyLab = { ttys }; // for tests and the curious
const steps = initSteps({
  t, call, say: status, session: () => session && session.state === "ready" && session,
  current: () => ($("tabs").querySelector('[aria-selected="true"]') || { id: "" }).id.slice(4),
  terminal: async (node) => (select(node), await opening[node], ttys[node]),
});

async function load() {
  for (const li of $("steps").children) {
    const btn = li.querySelector("button.check");
    btn.addEventListener("click", () => check(li.dataset.step, li, btn));
  }
  // Neither signed in (labd's readable CSRF cookie) nor a token: ask, without a 401.
  if (!sessionStorage.getItem(TOKEN) && !/(?:^|;\s*)labd_csrf=/.test(document.cookie)) return askSignIn();
  let live;
  try {
    live = await call("GET", "/sessions?live=1");
  } catch (e) {
    if (e.status !== 401) status(e.message, "error");
    return;
  }
  const mine = live.find((s) => s.lab === labID && !s.pool);
  if (mine) show(await waitReady(mine));
}

function clearSteps() {
  for (const li of $("steps").children) {
    delete li.dataset.passed;
    li.querySelector("output").textContent = "";
    li.querySelector("button.check").disabled = true;
  }
}

async function check(step, li, btn) {
  btn.disabled = true;
  const out = li.querySelector("output");
  out.textContent = t.checking;
  try {
    const r = await call("POST", `/sessions/${session.id}/steps/${step}/check`, { lang: root.dataset.lang });
    li.dataset.passed = r.passed;
    if (r.passed) steps.passed(step);
    out.textContent = r.passed ? "✓ " + t.passed : r.output.replace(/^FAIL: ?/gm, "") || t.failed;
  } catch (e) {
    out.textContent = e.message;
  }
  btn.disabled = false;
}

// waitReady waits while the session is queued (showing its place in line;
// it starts by itself) or provisioning.
async function waitReady(s) {
  terminals(); // meanwhile
  while (s.state === "provisioning" || s.state === "queued") {
    status(s.queue ? queueText(s.queue) : t.starting, "busy");
    session = s;
    $("end").hidden = s.state !== "queued"; // leave the line
    s = await call("GET", `/sessions/${s.id}?wait=30s`);
  }
  return s;
}

function queueText(q) {
  const est = q.estimate_seconds > 0 ? Math.max(1, Math.ceil(q.estimate_seconds / 60)) : 0;
  if (root.dataset.lang === "zh")
    return `所有实验环境都在使用中：你排在第 ${q.position} 位${est ? `，预计约 ${est} 分钟后就绪` : ""}。轮到你时实验会自动启动。`;
  return `Every lab environment is in use: you are number ${q.position} in line${est ? `, ready in about ${est} min` : ""}. The lab starts by itself when your turn comes.`;
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
  steps.ready();
  renderPorts(s, { call, lang: root.dataset.lang, tabs: $("tabs"), panes: $("panes") });
}

function tick() {
  const left = Math.max(0, new Date(session.expires_at) - Date.now());
  const h = Math.floor(left / 3600000), m = Math.floor((left % 3600000) / 60000), sec = Math.floor((left % 60000) / 1000);
  const mm = h ? `${h}:${String(m).padStart(2, "0")}` : String(m);
  $("timer").textContent = `${t.timeLeft} ${mm}:${String(sec).padStart(2, "0")}`;
}

function renderTabs(nodes) {
  const tabs = $("tabs"), panes = $("panes");
  tabs.replaceChildren();
  panes.replaceChildren();
  nodes.forEach((n, i) => {
    const tab = document.createElement("button");
    tab.type = "button";
    tab.setAttribute("role", "tab");
    tab.id = "tab-" + n.name;
    tab.textContent = n.name;
    tab.setAttribute("aria-controls", "pane-" + n.name);
    const pane = document.createElement("div");
    pane.id = "pane-" + n.name;
    pane.setAttribute("role", "tabpanel");
    pane.className = "pane";
    pane.setAttribute("aria-labelledby", tab.id);
    const state = document.createElement("span");
    state.className = "tty-state";
    tab.append(" ", state);
    tab.addEventListener("click", () => select(n.name));
    tab.addEventListener("keydown", (e) => {
      // The tabs pattern: arrows move between the nodes' tabs.
      const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      if (!step) return;
      e.preventDefault();
      const next = nodes[(i + step + nodes.length) % nodes.length].name;
      select(next);
      $("tab-" + next).focus();
    });
    tabs.append(tab);
    panes.append(pane);
    if (i === 0) select(n.name);
  });
}

function select(node) {
  for (const tab of $("tabs").children) {
    const on = tab.id === "tab-" + node;
    tab.setAttribute("aria-selected", on);
    tab.tabIndex = on ? 0 : -1;
  }
  for (const pane of $("panes").children) pane.hidden = pane.id !== "pane-" + node;
  showTerminal(node);
}

// showTerminal opens a node's terminal the first time, and focuses it.
async function showTerminal(node) {
  if (!ttys[node]) await (opening[node] ||= open(node));
  else ttys[node].fit.fit();
  ttys[node].term.focus();
}

async function open(node) {
  const { Terminal, FitAddon, TTY, nodeEndpoints, termOptions, restartButton, stalledText } = await terminals();
  const term = new Terminal({ ...termOptions, cursorBlink: true });
  const fit = new FitAddon();
  term.loadAddon(fit);
  const pane = $("pane-" + node);
  term.open(pane);
  fit.fit();
  const badge = $("tab-" + node).querySelector(".tty-state");
  const tty = new TTY({
    term,
    ...nodeEndpoints(session.id, node, call),
    onState: (s, detail) => {
      badge.textContent = s === "stalled" ? stalledText() : t[s] || s;
      badge.dataset.state = s;
      pane.dataset.state = s;
      if (s === "ended" && detail) term.write(`\r\n\x1b[2m[${detail}]\x1b[0m\r\n`);
    },
  });
  ttys[node] = { term, fit, tty };
  tty.connect();
  if (!$("restart-terminal")) {
    // One control for the terminal shown: the way out of a stalled shell.
    const b = restartButton(() => {
      const tab = $("tabs").querySelector('[aria-selected="true"]');
      return tab && ttys[tab.id.slice(4)] && ttys[tab.id.slice(4)].tty;
    });
    b.id = "restart-terminal";
    $("tabs").after(b);
  }
}

window.addEventListener("resize", () => {
  for (const { fit } of Object.values(ttys)) fit.fit();
});

$("start").addEventListener("click", async () => {
  $("start").disabled = true;
  try {
    show(await waitReady(await call("POST", "/sessions", { lab: labID })));
  } catch (e) {
    status(e.message, "error");
  }
  $("start").disabled = false;
});

$("extend").addEventListener("click", async () => {
  try {
    session = await call("POST", `/sessions/${session.id}/extend`);
    tick();
  } catch (e) {
    status(e.message, "error");
  }
});

$("reset").addEventListener("click", async () => {
  if (!confirm(t.confirmReset)) return;
  for (const k of Object.keys(ttys)) {
    ttys[k].tty.end();
    delete ttys[k];
    delete opening[k];
  }
  clearSteps();
  steps.reset();
  try {
    show(await waitReady(await call("POST", `/sessions/${session.id}/reset`)));
  } catch (e) {
    status(e.message, "error");
  }
});

$("end").addEventListener("click", async () => {
  if (!confirm(t.confirmEnd)) return;
  await call("DELETE", `/sessions/${session.id}`).catch(() => {});
  for (const k of Object.keys(ttys)) ttys[k].tty.end();
  clearInterval(timer);
  location.reload();
});

load();
