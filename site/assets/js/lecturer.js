// lecturer.js: the lecturer console. A lecturer lists and creates classes,
// imports a roster (every bad line shown by number, nothing imported until
// all are right), hands out the invitation links, and watches the class:
// a progress table refreshed every few seconds with the stuck trainees
// marked and announced, a trainee's terminal observed read-only (tty.v1 as
// an observer), and recordings replayed with asciinema-player. Everything
// goes through labd's API (api.js).
import { api, request, APIError } from "./api.js";
import { missingText } from "./missing.js";
import { portLinks } from "./ports.js";

const $ = (id) => document.getElementById(id);
const root = $("lecturer");
const lang = root.dataset.lang;
const t = JSON.parse(root.dataset.i18n);
const REFRESH_MS = 5000;
const when = new Intl.DateTimeFormat(lang === "zh" ? "zh-CN" : "en", { dateStyle: "medium", timeStyle: "short" });
const clock = new Intl.DateTimeFormat(lang === "zh" ? "zh-CN" : "en", { timeStyle: "medium" });
const ago = new Intl.RelativeTimeFormat(lang === "zh" ? "zh-CN" : "en", { numeric: "auto" });

let labs = {}; // id -> {title, steps, nodes}
let current = null; // the open class
let refreshTimer = 0;
let lastRender = "";
let stuckBefore = null; // emails of the stuck trainees at the last refresh
let observer = null; // {term, fit, tty}
let player = null;
let watchModule = null;

// watching loads xterm.js, the tty.v1 client and asciinema-player, once.
function watching() {
  watchModule ??= import(root.dataset.watch);
  return watchModule;
}

// fmt fills {name} placeholders.
function fmt(s, vars) {
  return String(s).replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined ? vars[k] : m));
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
}

function status(msg, kind) {
  $("status").textContent = msg || "";
  $("status").dataset.kind = kind || "";
}

function title(text) {
  return (text && (text[lang] || text.en || text.zh)) || "";
}

function relative(iso) {
  if (!iso) return "—";
  const s = Math.round((new Date(iso) - Date.now()) / 1000);
  if (Math.abs(s) < 60) return ago.format(s, "second");
  if (Math.abs(s) < 3600) return ago.format(Math.round(s / 60), "minute");
  if (Math.abs(s) < 86400) return ago.format(Math.round(s / 3600), "hour");
  return when.format(new Date(iso));
}

// signedOut shows the sign-in notice (a token form until accounts exist).
function signedOut() {
  $("signin").hidden = false;
  $("classes-section").hidden = true;
  $("class").hidden = true;
  clearInterval(refreshTimer);
}

function failed(e) {
  if (e instanceof APIError && e.status === 401) return signedOut();
  status(e.message, "error");
}

$("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const v = $("token").value.trim();
  if (!v) return;
  sessionStorage.setItem("labd.token", v);
  location.reload();
});

// ---- classes ----

async function loadClasses() {
  const list = await api("GET", "/classes");
  const ul = $("classes");
  ul.replaceChildren();
  if (list.length === 0) ul.append(el("li", { text: t.no_classes }));
  for (const c of list) {
    ul.append(
      el(
        "li",
        { "data-class": c.id, "aria-current": current && current.id === c.id ? "true" : false },
        el("a", { href: "#" + c.id, text: c.title }),
        el("span", { class: "meta", text: fmt(t.window, { start: when.format(new Date(c.start)), end: when.format(new Date(c.end)) }) }),
        el("span", { class: "meta", text: c.labs.map((l) => (labs[l] ? title(labs[l].title) : l)).join(", ") }),
      ),
    );
  }
  return list;
}

function localInput(d) {
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function prepareCreateForm() {
  const box = $("c-labs");
  box.replaceChildren();
  for (const [id, l] of Object.entries(labs)) {
    const cb = el("input", { type: "checkbox", name: "labs", value: id, id: "c-lab-" + id });
    box.append(el("label", { for: "c-lab-" + id }, cb, title(l.title)));
  }
  courseLabs();
  const start = new Date();
  start.setMinutes(0, 0, 0);
  start.setHours(start.getHours() + 1);
  $("c-start").value = localInput(start);
  $("c-end").value = localInput(new Date(start.getTime() + 8 * 3600e3));
}

// courseLabs ticks the labs the chosen course's lessons use.
function courseLabs() {
  const opt = $("c-course").selectedOptions[0];
  const want = new Set(((opt && opt.dataset.labs) || "").split(" ").filter(Boolean));
  for (const cb of $("c-labs").querySelectorAll("input")) cb.checked = want.has(cb.value);
}

$("c-course").addEventListener("change", courseLabs);

$("create-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const body = {
    title: f.get("title"),
    course: f.get("course"),
    labs: f.getAll("labs"),
    start: new Date(f.get("start")).toISOString(),
    end: new Date(f.get("end")).toISOString(),
    capacity: Number(f.get("capacity")),
    stuck_after: Number(f.get("stuck")) + "m",
  };
  try {
    const c = await api("POST", "/classes", body);
    status(t.created);
    e.target.reset();
    prepareCreateForm();
    $("new-class").open = false;
    location.hash = c.id;
    await loadClasses();
  } catch (err) {
    failed(err);
  }
});

async function openClass(id) {
  clearInterval(refreshTimer);
  closeObserver();
  closeReplay();
  closeWall();
  lastRender = "";
  stuckBefore = null;
  $("invitations").hidden = true;
  $("roster-errors").hidden = true;
  $("certs-out").hidden = true;
  if (!id) {
    current = null;
    $("class").hidden = true;
    return;
  }
  try {
    current = await api("GET", "/classes/" + encodeURIComponent(id));
  } catch (e) {
    current = null;
    $("class").hidden = true;
    return failed(e);
  }
  for (const li of $("classes").children) {
    if (li.dataset.class === id) li.setAttribute("aria-current", "true");
    else li.removeAttribute("aria-current");
  }
  $("class-title").textContent = current.title;
  $("class-meta").textContent = fmt(t.window, {
    start: when.format(new Date(current.start)),
    end: when.format(new Date(current.end)),
  });
  endButton();
  $("class").hidden = false;
  loadPrograms().catch(failed);
  await refresh();
  refreshTimer = setInterval(refresh, REFRESH_MS);
}

window.addEventListener("hashchange", () => openClass(location.hash.slice(1)));

// endButton offers to end the open class now, while its window is open:
// its reserved lab environments are given back; trainees' running sessions
// keep running.
function endButton() {
  let b = $("end-class");
  if (!b) {
    b = el("button", { text: lang === "zh" ? "结束课程" : "End class" });
    b.id = "end-class";
    b.type = "button";
    $("class-meta").after(b);
    b.addEventListener("click", async () => {
      const ask = lang === "zh"
        ? "现在结束这门课？预留的实验环境将被释放；学员正在运行的实验会继续运行。"
        : "End this class now? Its reserved lab environments are released; trainees' running labs keep running.";
      if (!current || !confirm(ask)) return;
      try {
        current = await api("POST", `/classes/${encodeURIComponent(current.id)}/end`);
      } catch (e) {
        return failed(e);
      }
      openClass(current.id);
    });
  }
  b.hidden = new Date(current.end) <= Date.now();
}

// ---- progress ----

async function refresh() {
  if (!current) return;
  let p;
  try {
    p = await api("GET", `/classes/${current.id}/progress`);
  } catch (e) {
    return failed(e);
  }
  syncWall(p);
  $("updated").textContent = fmt(t.updated, { time: clock.format(new Date(p.at)) });
  const stuck = p.trainees.filter((x) => x.stuck);
  const emails = new Set(stuck.map((x) => x.email));
  if (stuckBefore) {
    const fresh = stuck.filter((x) => !stuckBefore.has(x.email));
    if (fresh.length) $("stuck-news").textContent = fmt(t.now_stuck, { names: fresh.map((x) => x.name).join(", ") });
  }
  stuckBefore = emails;
  // Redraw only on change, so that keyboard focus in the table survives
  // the refreshes; relative times are redrawn each minute.
  const sig = JSON.stringify([p.trainees, p.labs, Math.floor(Date.now() / 60000)]);
  if (sig === lastRender) return;
  lastRender = sig;
  renderProgress(p);
}

function renderProgress(p) {
  const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : "";
  const tbody = $("progress").tBodies[0];
  tbody.replaceChildren();
  for (const tr of p.trainees) {
    for (const l of p.labs) {
      const s = tr.sessions.find((x) => x.lab === l.id); // newest first
      const live = s && s.state === "ready";
      const stuck = tr.stuck && live;
      const who = el("th", { scope: "row" }, el("span", { text: tr.name }), el("br"), el("span", { class: "meta", text: tr.email }));
      if (stuck) who.append(el("span", { class: "stuck", title: t.stuck_long, "aria-label": t.stuck_long, text: t.stuck }));
      const steps = el("td", { class: "steps" });
      if (s) steps.append(`${s.steps_passed}/${s.steps_total}`);
      else steps.append("—");
      if (tr.passed.includes(l.id)) steps.append(" ", el("span", { class: "passed", text: "✓ " + t.passed_lab }));
      const state = s ? t.states[s.state] || s.state : tr.user ? t.not_started : t.no_account;
      const actions = el("td");
      if (live) {
        for (const n of s.nodes.filter((n) => n.terminal)) {
          actions.append(
            el("button", {
              type: "button",
              "data-key": `observe:${s.id}:${n.name}`,
              "aria-label": fmt(t.observe_label, { name: tr.name, node: n.name }),
              text: fmt(t.observe, { node: n.name }),
              onclick: () => observe(s, n.name, tr.name, title(l.title)),
            }),
          );
        }
        actions.append(portLinks(api, s.id, lang));
      }
      if (s) {
        actions.append(
          el("button", {
            type: "button",
            "data-key": `replay:${s.id}`,
            "aria-label": fmt(t.recordings_label, { name: tr.name, lab: title(l.title) }),
            text: t.recordings,
            onclick: () => replay(s, tr.name, title(l.title)),
          }),
        );
      }
      tbody.append(
        el(
          "tr",
          { "data-trainee": tr.email, "data-lab": l.id, "data-stuck": stuck ? "true" : "false" },
          who,
          el("td", { text: title(l.title) }),
          steps,
          el("td", { text: s ? relative(tr.last_activity) : "—" }),
          el("td", { text: state }),
          actions,
        ),
      );
    }
  }
  if (focused) {
    const again = tbody.querySelector(`[data-key="${CSS.escape(focused)}"]`);
    if (again) again.focus();
  }
}

// ---- the class wall: every live terminal as a thumbnail ----

// wall holds the open thumbnails, by "session/node": {li, term, tty}. It
// loads xterm.js (lecturer-watch.js) only when opened, and each thumbnail
// is an observer stream (labd paces observers) at the trainee's size.
let wall = null;
let lastProgress = null;

$("wall-toggle").addEventListener("click", async () => {
  if (wall) return closeWall();
  wall = new Map();
  const b = $("wall-toggle");
  b.textContent = b.dataset.hide;
  b.setAttribute("aria-expanded", "true");
  $("wall").hidden = false;
  await watching();
  if (lastProgress) syncWall(lastProgress);
});

function closeWall() {
  if (!wall) return;
  for (const th of wall.values()) {
    th.tty.end();
    th.term.dispose();
  }
  wall = null;
  $("wall-list").replaceChildren();
  $("wall").hidden = true;
  const b = $("wall-toggle");
  b.textContent = b.dataset.show;
  b.setAttribute("aria-expanded", "false");
}

// syncWall opens a thumbnail for each live terminal of the class and
// closes those whose session has ended.
async function syncWall(p) {
  lastProgress = p;
  if (!wall) return;
  const m = await watching();
  if (!wall) return;
  const live = new Map();
  for (const tr of p.trainees) {
    for (const l of p.labs) {
      const s = tr.sessions.find((x) => x.lab === l.id);
      if (!s || s.state !== "ready") continue;
      for (const n of s.nodes.filter((n) => n.terminal)) live.set(`${s.id}/${n.name}`, { s, node: n.name, tr, l });
    }
  }
  for (const [k, th] of wall) {
    if (live.has(k)) continue;
    th.tty.end();
    th.term.dispose();
    th.li.remove();
    wall.delete(k);
  }
  for (const [k, { s, node, tr, l }] of live) {
    if (!wall.has(k)) wall.set(k, thumbnail(m, s, node, tr, title(l.title)));
    const li = wall.get(k).li;
    li.dataset.stuck = tr.stuck ? "true" : "false";
    li.style.outline = tr.stuck ? "3px solid var(--bad)" : ""; // stuck, at a glance
  }
  $("wall-empty").hidden = wall.size > 0;
}

function thumbnail(m, s, node, tr, labTitle) {
  const open = () => observe(s, node, tr.name, labTitle);
  // The terminal is a picture (hidden from assistive technology, a click
  // observes); the button is the way in by keyboard.
  const box = el("div", { class: "wall-term", "aria-hidden": "true", onclick: open });
  const button = el("button", {
    type: "button",
    class: "wall-item",
    "aria-label": fmt(t.wall_label, { name: tr.name, lab: labTitle, node }),
    text: `${tr.name} · ${node}`,
    onclick: open,
  });
  const li = el("li", { "data-session": s.id, "data-node": node, "data-trainee": tr.email }, box, button);
  Object.assign(li.style, { display: "inline-block", margin: "0 .5rem .5rem 0", verticalAlign: "top", background: "#101418", padding: ".2rem" });
  Object.assign(box.style, { cursor: "pointer" });
  Object.assign(button.style, { display: "block", width: "100%", fontSize: ".8rem", marginTop: ".2rem" });
  $("wall-list").append(li);
  const term = new m.Terminal({ ...m.termOptions, fontSize: 5, scrollback: 0, disableStdin: true, cursorBlink: false });
  term.open(box);
  box.querySelector("textarea")?.setAttribute("tabindex", "-1");
  const tty = new m.TTY({
    term,
    writerSize: true,
    ...m.nodeEndpoints(s.id, node, api),
    onState: (st) => (box.dataset.state = st),
  });
  tty.connect();
  return { li, term, tty };
}

// ---- observing a terminal ----

function closeObserver() {
  if (!observer) return;
  observer.tty.end();
  observer.term.dispose();
  observer = null;
  $("observe").hidden = true;
}

$("observe-stop").addEventListener("click", closeObserver);

async function observe(s, node, name, labTitle) {
  const { Terminal, FitAddon, TTY, nodeEndpoints, termOptions } = await watching();
  closeObserver();
  $("observe").hidden = false;
  const h = $("observe-h");
  h.textContent = fmt(t.observing, { name, lab: labTitle, node });
  // disableStdin: an observer's keys would be dropped by labd anyway.
  const term = new Terminal({ ...termOptions, disableStdin: true, cursorBlink: false });
  const fit = new FitAddon();
  term.loadAddon(fit);
  const pane = $("observe-term");
  pane.replaceChildren();
  term.open(pane);
  fit.fit();
  const badge = $("observe-state");
  const tty = new TTY({
    term,
    ...nodeEndpoints(s.id, node, api),
    onState: (st, detail) => {
      badge.textContent = t[st] || st;
      badge.dataset.state = st;
      pane.dataset.state = st;
      pane.dataset.role = st === "connected" ? detail : pane.dataset.role || "";
      if (st === "ended" && detail) term.write(`\r\n\x1b[2m[${detail}]\x1b[0m\r\n`);
    },
  });
  observer = { term, fit, tty };
  tty.connect();
  // The section opens below the table, often below the window: bring it
  // into view (xterm.js does not paint a terminal out of view) and move
  // the focus to it.
  h.tabIndex = -1;
  h.focus({ preventScroll: true });
  $("observe").scrollIntoView({ block: "start" });
}

window.addEventListener("resize", () => observer && observer.fit.fit());

// ---- replaying recordings ----

function closeReplay() {
  if (player) player.dispose();
  player = null;
  $("player").replaceChildren();
  $("replay").hidden = true;
}

$("replay-close").addEventListener("click", closeReplay);

async function replay(s, name, labTitle) {
  closeReplay();
  $("replay").hidden = false;
  const h = $("replay-h");
  h.textContent = fmt(t.recordings_of, { name, lab: labTitle });
  const ul = $("recordings");
  ul.replaceChildren();
  h.tabIndex = -1;
  h.focus();
  let recs;
  try {
    recs = await api("GET", `/sessions/${s.id}/recordings`);
  } catch (e) {
    return failed(e);
  }
  if (recs.length === 0) ul.append(el("li", { text: t.no_recordings }));
  for (const r of recs) {
    ul.append(
      el(
        "li",
        {},
        el("button", {
          type: "button",
          "data-recording": r.name,
          text: fmt(t.replay, { name: r.name }),
          onclick: () => play(s.id, r.name),
        }),
      ),
    );
  }
}

async function play(session, name) {
  let text;
  try {
    // Fetched here (with the caller's credentials), then handed over: the
    // player's own loader could not send a bearer token.
    text = await (await request("GET", `/sessions/${session}/recordings/${encodeURIComponent(name)}.cast`)).text();
  } catch (e) {
    return failed(e);
  }
  const { AsciinemaPlayer } = await watching();
  if (player) player.dispose();
  $("player").replaceChildren();
  player = AsciinemaPlayer.create({ data: text }, $("player"), { fit: "width", idleTimeLimit: 2, autoPlay: true });
}

// ---- the roster ----

// ---- certificates ----

// programsLoaded fills the program choice once.
let programsLoaded = false;
async function loadPrograms() {
  if (programsLoaded) return;
  const list = await api("GET", "/programs");
  const sel = $("certs-program");
  sel.replaceChildren(...list.map((p) => el("option", { value: p.id, text: title(p.title) })));
  programsLoaded = true;
}

$("certs-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!current) return;
  let out;
  try {
    out = await api("POST", `/classes/${encodeURIComponent(current.id)}/certificates`, { program: $("certs-program").value });
  } catch (err) {
    return failed(err);
  }
  const tbody = $("certs-out").querySelector("tbody");
  tbody.replaceChildren();
  let issued = 0;
  let held = 0;
  for (const v of out) {
    if (v.status === "issued") issued++;
    if (v.status === "held") held++;
    const state = fmt(t["cert_" + v.status] || v.status, { missing: missingText(v.missing, lang), reason: v.revoke_reason || "" });
    tbody.append(
      el(
        "tr",
        {},
        el("th", { scope: "row", text: v.name }),
        el("td", { text: state }),
        el("td", {}, v.verify_url ? el("a", { href: v.verify_url, text: v.code }) : "—"),
      ),
    );
  }
  $("certs-out").hidden = false;
  status(fmt(t.certs_done, { n: issued, held }));
});

$("roster-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!current) return;
  const file = $("roster-file").files[0];
  const csv = file ? await file.text() : $("roster-csv").value;
  const errors = $("roster-errors");
  errors.hidden = true;
  try {
    const res = await api("POST", `/classes/${current.id}/roster?lang=${lang}`, csv, "text/csv; charset=utf-8");
    status(fmt(t.imported, { n: res.invitations.length }));
    showInvitations(res.invitations);
    e.target.reset();
    lastRender = "";
    refresh();
  } catch (err) {
    if (err instanceof APIError && err.code === "invalid_roster" && Array.isArray(err.details)) {
      const ul = errors.querySelector("ul");
      ul.replaceChildren(...err.details.map((d) => el("li", { "data-line": d.line, text: fmt(t.line_field, d) })));
      errors.hidden = false;
      status("");
      return;
    }
    failed(err);
  }
});

function showInvitations(invs) {
  const ul = $("invitations").querySelector("ul");
  ul.replaceChildren();
  for (const inv of invs) {
    const li = el("li", { "data-email": inv.email }, el("strong", { text: inv.name }), el("span", { class: "meta", text: inv.email }));
    if (inv.url) {
      const code = el("code", { text: inv.url });
      const btn = el("button", { type: "button", "aria-label": fmt(t.copy_link, { name: inv.name }), text: t.copy });
      btn.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(inv.url);
          btn.textContent = t.copied;
          setTimeout(() => (btn.textContent = t.copy), 2000);
        } catch {
          getSelection().selectAllChildren(code); // copy by hand
        }
      });
      li.append(code, btn);
    } else {
      li.append(el("span", { text: t.has_account }));
    }
    ul.append(li);
  }
  $("invitations").hidden = invs.length === 0;
}

// ---- start ----

async function main() {
  try {
    for (const l of await api("GET", "/labs")) labs[l.id] = l;
  } catch (e) {
    return failed(e);
  }
  try {
    await loadClasses();
  } catch (e) {
    return failed(e);
  }
  prepareCreateForm();
  $("classes-section").hidden = false;
  if (location.hash.length > 1) openClass(location.hash.slice(1));
}

main();
