// steps.js: the lab page's step texts at work. Exec buttons type their
// command and Enter into a node's terminal (Ctrl-C first for "interrupt"),
// copy buttons put theirs on the clipboard, and opening a step enters it in
// labd (its on_enter runs) and types its foreground commands.

// initSteps wires the buttons of #steps. lab: {t, call, session() -> the
// session or undefined, terminal(node) -> Promise<{term, tty}> (opened and
// shown), current() -> the node on show, say(msg, kind)}.
export function initSteps(lab) {
  const { t, say } = lab;
  document.getElementById("steps").addEventListener("click", async (e) => {
    const btn = e.target.closest("button.exec, button.copy");
    if (!btn) return;
    if (btn.classList.contains("copy")) return copy(btn.dataset.copy).then(() => say(t.copied), (err) => say(err.message, "error"));
    if (!lab.session()) return say(t.startFirst, "error");
    try {
      await type(btn.dataset.node || lab.current(), btn.dataset.exec, btn.hasAttribute("data-interrupt"));
    } catch (err) {
      say(err.message, "error");
    }
  });

  // type sends text and Enter to node's shell, once its terminal is connected.
  async function type(node, text, interrupt) {
    const { term, tty } = await lab.terminal(node);
    for (let i = 0; tty.state !== "connected"; i++) {
      if (tty.state === "ended" || i > 300) throw new Error(t.ended);
      await new Promise((r) => setTimeout(r, 100));
    }
    // input() goes the way of typed keys: onData, then the tty.v1 client.
    term.input((interrupt ? "\x03" : "") + text.replace(/\r?\n/g, "\r") + "\r", true);
  }

  const entered = new Set();
  // enter tells labd the trainee is at step (the first not passed, or the
  // one after a step that just passed) and types what it hands back.
  async function enter(step) {
    const s = lab.session();
    if (!s || !step || entered.has(s.id + "/" + step)) return;
    entered.add(s.id + "/" + step);
    for (const li of document.getElementById("steps").children) {
      if (li.dataset.step === step) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
    }
    try {
      const r = await lab.call("POST", `/sessions/${s.id}/steps/${step}/enter`);
      for (const f of [r.lab_foreground, r.foreground]) if (f) await type(f.node, f.commands.join("\n"));
    } catch (err) {
      entered.delete(s.id + "/" + step);
      say(err.message, "error");
    }
  }

  const next = (after) => {
    const items = [...document.getElementById("steps").children];
    const from = after ? items.findIndex((li) => li.dataset.step === after) + 1 : 0;
    const li = items.slice(from).find((li) => li.dataset.passed !== "true");
    return li && li.dataset.step;
  };
  return {
    // ready: the session is ready (started, found or reset).
    ready: () => enter(next()),
    // passed: a step's check passed; the next one is entered.
    passed: (step) => enter(next(step)),
    reset: () => entered.clear(),
  };
}

// copy puts text on the clipboard; without the Clipboard API (an insecure
// origin), through a selected, hidden textarea.
async function copy(text) {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  const area = Object.assign(document.createElement("textarea"), { value: text, readOnly: true });
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  if (!ok) throw new Error("copy failed");
}
