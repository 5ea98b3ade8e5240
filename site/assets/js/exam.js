// The exam page (/<lang>/exam/?program=<id>): the program's requirements and
// the caller's progress, the exam itself (questions from labd, graded by
// labd: this page never sees the answer key), the result and the claim of
// the certificate. It talks to labd through api.js and nothing else.
import { api, signInURL } from "./api.js";
import { missingText } from "./missing.js";

const $ = (id) => document.getElementById(id);
const root = $("exam");
const lang = root.dataset.lang;
const t = JSON.parse(root.dataset.i18n);
const programID = new URLSearchParams(location.search).get("program") || "";

let program; // GET /api/programs/{program}
let paper; // the open attempt
let skew = 0; // server clock minus this browser's, in ms
let timer;
let announced = {};
let submitting = false;

const fmt = (s, vars) => s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? "").toString());
const text = (v) => (v ? v[lang] || v.en || "" : "");
const enc = encodeURIComponent;

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "dataset") Object.assign(e.dataset, v);
    else if (k in e) e[k] = v;
    else e.setAttribute(k, v);
  }
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
}

function alertMsg(msg) {
  $("alert").textContent = msg || "";
}

function when(iso) {
  return new Date(iso).toLocaleString(lang === "zh" ? "zh-CN" : "en", { dateStyle: "medium", timeStyle: "short" });
}

// duration turns a Go duration ("40m0s", "24h0m0s") into words.
function duration(s) {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(s || "");
  if (!m) return s;
  const [h, min] = [Number(m[1] || 0), Number(m[2] || 0)];
  const zh = lang === "zh";
  const parts = [];
  if (h) parts.push(zh ? `${h} 小时` : `${h} h`);
  if (min) parts.push(zh ? `${min} 分钟` : `${min} min`);
  return parts.join(" ") || s;
}

function failed(e) {
  if (e.status === 401) {
    $("signin").hidden = false;
    $("signin-link").href = signInURL(lang);
    return;
  }
  // Known refusals in the page's language, with labd's own words (which
  // say when and why) after them.
  const known = t.errors && t.errors[e.code];
  const d = e.details || {};
  if (e.code === "requirements_not_met" && d.missing) {
    alertMsg(fmt(t.missing, { items: missingText(d.missing, lang) }));
  } else if (e.code === "revoked" && d.certificate) {
    alertMsg(fmt(t.revoked, { reason: d.certificate.revoke_reason, date: day(d.certificate.revoked_at) }));
  } else {
    alertMsg(known ? known + " (" + e.message + ")" : e.message);
  }
}

function day(iso) {
  return iso ? new Date(iso).toLocaleDateString(lang === "zh" ? "zh-CN" : "en", { dateStyle: "medium" }) : "";
}

async function load() {
  try {
    if (!programID) {
      await listPrograms();
    } else {
      program = await api("GET", "/programs/" + enc(programID));
      renderProgram();
    }
  } catch (e) {
    failed(e);
  } finally {
    $("loading").hidden = true;
  }
}

async function listPrograms() {
  const list = await api("GET", "/programs");
  const ul = $("program-list");
  ul.replaceChildren();
  for (const p of list) {
    const a = el("a", { href: "?program=" + enc(p.id) }, text(p.title));
    const held = !!p.certificate && p.certificate.status === "valid";
    ul.append(el("li", { dataset: { ok: String(held) } }, a, held ? " ✓" : ""));
  }
  $("programs").hidden = false;
}

function check(ok, label, note, href) {
  const li = el("li", { dataset: { ok: String(ok) } });
  li.append(el("span", { className: "mark", "aria-hidden": "true" }, ok ? "✓" : "✗"));
  li.append(href ? el("a", { href }, label) : el("span", {}, label));
  li.append(el("span", { className: "note" }, "(" + note + ")"));
  return li;
}

function renderProgram() {
  const p = program;
  document.title = text(p.title) + " · " + document.title;
  $("title").textContent = text(p.title);
  $("description").textContent = text(p.description);

  $("labs").replaceChildren(
    ...p.labs.map((l) => check(l.passed, text(l.title), l.passed ? t.labPassed : t.labOpen, `/${lang}/labs/${enc(l.id)}/`)),
  );
  $("requires-box").hidden = p.requires.length === 0;
  $("requires").replaceChildren(
    ...p.requires.map((r) => check(r.held, text(r.title), r.held ? t.held : t.notHeld, `?program=${enc(r.id)}`)),
  );

  const x = p.exam;
  let facts = fmt(t.examFacts, { draw: x.draw, limit: duration(x.time_limit), pass: x.pass_mark, max: x.max_attempts });
  if (x.cooldown) facts += lang === "zh" ? "；" + fmt(t.cooldown, { cooldown: duration(x.cooldown) }) : ". " + fmt(t.cooldown, { cooldown: duration(x.cooldown) });
  $("exam-facts").textContent = facts + (lang === "zh" ? "。" : ".");

  const waiting = x.next_attempt_at && new Date(x.next_attempt_at) > Date.now() + skew;
  let state = x.passed ? fmt(t.examPassed, { score: x.best_score }) : fmt(t.attemptsLeft, { n: x.attempts_left });
  if (!x.passed && waiting) state += " · " + fmt(t.nextAttempt, { time: when(x.next_attempt_at) });
  $("exam-state").textContent = state;
  const start = $("start");
  start.hidden = x.passed || (!x.open_attempt && (x.attempts_left === 0 || waiting));
  start.textContent = x.open_attempt ? t.resume : t.start;

  $("grants").hidden = !p.grants_role;
  const cs = $("cert-state");
  cs.replaceChildren();
  const c = p.certificate;
  if (c && c.status === "revoked") {
    cs.append(fmt(t.revoked, { reason: c.revoke_reason, date: day(c.revoked_at) }), " ");
  } else if (c && c.status === "expired") {
    cs.append(fmt(t.expired, { date: day(c.expires_at) }), " ");
  }
  if (c) cs.append(el("a", { href: c.verify_url }, t.verify), " · ", el("code", {}, c.code));
  cs.dataset.status = c ? c.status : "";
  const held = !!c && c.status === "valid";
  $("missing").textContent = p.missing.length ? fmt(t.missing, { items: missingText(p.missing, lang) }) : "";
  $("missing").hidden = p.missing.length === 0;
  $("claim").hidden = held || !p.complete;
  $("overview").hidden = false;
}

$("start").addEventListener("click", async () => {
  alertMsg("");
  $("start").disabled = true;
  try {
    paper = await api("GET", `/exams/${enc(programID)}/attempt`);
    skew = new Date(paper.server_time) - Date.now();
    renderPaper();
  } catch (e) {
    failed(e);
  } finally {
    $("start").disabled = false;
  }
});

const saved = () => "exam.answers." + paper.id;

function renderPaper() {
  const keep = JSON.parse(sessionStorage.getItem(saved()) || "{}");
  const ol = $("questions");
  ol.replaceChildren();
  paper.questions.forEach((q, i) => {
    const legend = el(
      "legend",
      {},
      el("span", { className: "num" }, fmt(t.question, { n: i + 1 }) + (lang === "zh" ? "：" : ": ")),
      el("span", { className: "text" }, text(q.text)),
      el("span", { className: "kind" }, q.kind === "multiple" ? t.multiple : t.single),
    );
    const fs = el("fieldset", {}, legend);
    for (const o of q.options) {
      const id = `q-${q.id}-${o.id}`;
      const input = el("input", {
        type: q.kind === "multiple" ? "checkbox" : "radio",
        name: "q-" + q.id,
        id,
        value: o.id,
        checked: (keep[q.id] || []).includes(o.id),
      });
      fs.append(el("label", { htmlFor: id }, input, el("span", {}, text(o.text))));
    }
    ol.append(el("li", { id: "question-" + q.id, dataset: { question: q.id } }, fs));
  });
  $("overview").hidden = true;
  $("result").hidden = true;
  const form = $("paper");
  form.hidden = false;
  $("countdown").parentElement.hidden = false;
  $("submit").hidden = false;
  $("submit").disabled = false;
  $("submit").textContent = t.submit;
  announced = {};
  tick();
  clearInterval(timer);
  timer = setInterval(tick, 1000);
  $("paper-title").tabIndex = -1;
  $("paper-title").focus();
}

function answers() {
  const out = {};
  for (const q of paper.questions) {
    out[q.id] = [...document.querySelectorAll(`input[name="q-${CSS.escape(q.id)}"]:checked`)].map((i) => i.value);
  }
  return out;
}

$("paper").addEventListener("change", () => {
  if (paper) sessionStorage.setItem(saved(), JSON.stringify(answers()));
});

function tick() {
  const left = Math.max(0, new Date(paper.deadline) - (Date.now() + skew));
  const s = Math.floor(left / 1000);
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  const pad = (n) => String(n).padStart(2, "0");
  const c = $("countdown");
  c.textContent = (hh ? hh + ":" + pad(mm) : mm) + ":" + pad(ss);
  c.dateTime = `PT${s}S`;
  c.parentElement.dataset.low = String(s < 300);
  for (const m of [5, 1]) {
    if (s <= m * 60 && s > 0 && !announced[m]) {
      announced[m] = true;
      $("time-notice").textContent = fmt(t.minutesLeft, { n: m });
    }
  }
  if (left === 0) {
    clearInterval(timer);
    $("time-notice").textContent = t.timeUp;
    submit(true);
  }
}

$("paper").addEventListener("submit", (e) => {
  e.preventDefault();
  submit(false);
});

async function submit(auto) {
  if (submitting || !paper) return;
  const ans = answers();
  const open = Object.values(ans).filter((a) => a.length === 0).length;
  if (!auto && open > 0 && !confirm(fmt(t.confirmUnanswered, { n: open }))) return;
  submitting = true;
  alertMsg("");
  const btn = $("submit");
  btn.disabled = true;
  btn.textContent = t.submitting;
  try {
    const g = await api("POST", `/exams/${enc(programID)}/attempt/${enc(paper.id)}`, { answers: ans });
    clearInterval(timer);
    sessionStorage.removeItem(saved());
    showResult(g);
  } catch (e) {
    if (e.code === "deadline_passed" || e.code === "conflict") {
      clearInterval(timer);
      lock();
    } else {
      btn.disabled = false;
      btn.textContent = t.submit;
    }
    failed(e);
  } finally {
    submitting = false;
  }
  try {
    program = await api("GET", "/programs/" + enc(programID));
    renderProgram();
  } catch (e) {
    failed(e);
  }
}

// lock freezes the paper once it is graded or closed: no more answers, no clock.
function lock() {
  for (const i of $("paper").querySelectorAll("input, button")) i.disabled = true;
  $("countdown").parentElement.hidden = true;
}

function showResult(g) {
  lock();
  $("submit").hidden = true;
  for (const r of g.results) {
    const li = document.querySelector(`li[data-question="${CSS.escape(r.question)}"]`);
    if (!li) continue;
    li.dataset.correct = String(r.correct);
    li.querySelector("fieldset").append(el("p", { className: "verdict" }, (r.correct ? "✓ " : "✗ ") + (r.correct ? t.right : t.wrong)));
  }
  const res = $("result");
  res.dataset.passed = String(g.passed);
  $("result-title").textContent = t.result + " · " + (g.passed ? t.passedExam : t.failedExam);
  $("result-line").textContent = fmt(t.resultLine, { score: g.score, correct: g.correct, total: g.total, pass: g.pass_mark });
  res.hidden = false;
  res.focus();
}

$("claim").addEventListener("click", async () => {
  const btn = $("claim");
  btn.disabled = true;
  btn.textContent = t.claiming;
  alertMsg("");
  try {
    const c = await api("POST", `/programs/${enc(programID)}/claim`);
    const cs = $("cert-state");
    cs.replaceChildren(t.claimed + " ", el("a", { href: c.verify_url, id: "verify-link" }, t.verify), " · ", el("code", {}, c.code));
    btn.hidden = true;
  } catch (e) {
    failed(e);
  } finally {
    btn.disabled = false;
    btn.textContent = t.claim;
  }
});

load();
