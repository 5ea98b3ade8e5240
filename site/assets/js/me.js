// The "me" page: who is signed in, their lab sessions with step progress,
// their certificates (when labd offers them) and signing out.
import { api, signInURL } from "./api.js";
import { missingText } from "./missing.js";

const root = document.getElementById("me");
const lang = root.dataset.lang;
// Hugo lowercases front matter keys: the texts arrive as t.certstates etc.
const t = JSON.parse(root.dataset.text);
const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString(lang === "zh" ? "zh-CN" : "en") : "";
}

async function load() {
  let me;
  try {
    me = (await api("GET", "/me")).user;
  } catch (x) {
    if (x.status === 401) return location.assign(signInURL(lang));
    $("error").textContent = `${t.failed} ${x.message}`;
    return;
  }
  $("name").textContent = me.name || me.email || me.id;
  $("email").textContent = me.name ? me.email || "" : "";
  $("role").textContent = t.roles[me.role] || me.role;
  $("who").hidden = false;

  const [sessions, labs] = await Promise.all([api("GET", "/sessions"), api("GET", "/labs").catch(() => [])]);
  const titles = Object.fromEntries(labs.map((l) => [l.id, l.title[lang] || l.title.en || l.id]));
  const body = $("labs").querySelector("tbody");
  for (const s of sessions) {
    const passed = s.steps.filter((st) => st.passed).length;
    const bar = el("progress", { max: s.steps.length || 1, value: passed });
    bar.setAttribute("aria-label", `${passed} / ${s.steps.length}`);
    body.append(
      el(
        "tr",
        {},
        el("td", {}, el("a", { href: `/${lang}/labs/${encodeURIComponent(s.lab)}/` }, titles[s.lab] || s.lab)),
        el("td", {}, t.states[s.state] || s.state),
        el("td", {}, bar, ` ${passed} / ${s.steps.length}`),
        el("td", {}, when(s.created_at)),
      ),
    );
  }
  $("labs").hidden = sessions.length === 0;
  $("no-labs").hidden = sessions.length !== 0;

  if (me.role === "lecturer" || me.role === "admin") $("console").hidden = false;
  if (me.role === "admin") $("admin-link").hidden = false;

  // Certification programs: how far the caller is with each.
  try {
    const progs = await api("GET", "/programs");
    for (const p of progs) {
      const passed = p.labs.filter((l) => l.passed).length;
      let line = t.programline
        .replace("{labs}", passed)
        .replace("{total}", p.labs.length)
        .replace("{exam}", p.exam.passed ? t.exampassed : t.examnot);
      const c = p.certificate;
      if (c) line += t.sep + t.certificate.replace("{state}", t.certstates[c.status] || c.status);
      const li = el(
        "li",
        {},
        el("a", { href: `/${lang}/exam/?program=${encodeURIComponent(p.id)}` }, p.title[lang] || p.title.en || p.id),
        " ",
        el("span", { className: "muted" }, line),
      );
      if (c && c.status === "revoked") li.append(el("p", { className: "revoked" }, t.revokedline.replace("{reason}", c.revoke_reason)));
      else if (p.missing.length) li.append(el("p", { className: "muted" }, t.missing.replace("{items}", missingText(p.missing, lang))));
      $("program-list").append(li);
    }
    $("programs").hidden = progs.length === 0;
  } catch (x) {
    if (x.status !== 404) $("error").textContent = `${t.failed} ${x.message}`;
  }

  // Certificates come with the certificates work; until labd has the route, show nothing.
  try {
    const list = await api("GET", `/me/certificates?lang=${lang}`);
    for (const c of list) {
      const name = c.program && c.program.name ? c.program.name[lang] || c.program.name.en : c.code;
      const li = el("li", {}, el("strong", {}, name), " ");
      li.append(el("span", { className: "muted" }, `${t.certstates[c.status] || c.status}${t.sep}${when(c.issued_at)} `));
      li.append(el("a", { href: c.verify_url || `/v/${encodeURIComponent(c.code)}` }, t.verify));
      if (c.pdf_url) li.append(t.sep, el("a", { href: c.pdf_url }, "PDF"));
      if (c.status === "revoked" && c.revoke_reason) li.append(el("p", { className: "revoked" }, t.revokedline.replace("{reason}", c.revoke_reason)));
      $("cert-list").append(li);
    }
    $("no-certs").hidden = list.length !== 0;
    $("certs").hidden = false;
  } catch (x) {
    if (x.status !== 404) $("error").textContent = `${t.failed} ${x.message}`;
  }
}

$("logout").addEventListener("click", async () => {
  try {
    await api("POST", "/logout");
  } finally {
    location.assign(`/${lang}/login/`);
  }
});

load().catch((x) => ($("error").textContent = `${t.failed} ${x.message}`));
