// A lab session's web ports (a Ceph dashboard, an S3 endpoint): one tab per
// declared port beside the terminals, an iframe on the port's own origin
// served by labd's proxy, and "open in a new window". Links from the API
// are short-lived and work once, so each opening fetches a fresh one.

const words = {
  zh: { open: "在新窗口打开", endpoint: "地址", ports: "网页端口", none: "没有网页端口" },
  en: { open: "Open in a new window", endpoint: "Endpoint", ports: "Web ports", none: "No web ports" },
};

// freshURL asks labd for a new signed link to one port of the session.
async function freshURL(call, id, p) {
  const s = await call("GET", `/sessions/${id}`);
  const q = (s.ports || []).find((x) => x.node === p.node && x.port === p.port);
  if (!q) throw new Error("port not offered");
  return q.url;
}

// selectPane shows the pane "pane-" + name of the tablist and no other
// (a terminal tab's own switch hides the ports' panes the same way).
function selectPane(tabs, panes, name) {
  for (const tab of tabs.children) {
    const on = tab.id === "tab-" + name;
    tab.setAttribute("aria-selected", on);
    tab.tabIndex = on ? 0 : -1;
  }
  for (const pane of panes.children) pane.hidden = pane.id !== "pane-" + name;
}

// renderPorts adds the ports of session s to a page's tablist (the lab
// page's, the lecturer console's); call is the page's API call.
export function renderPorts(s, { call, lang, tabs, panes }) {
  const w = words[lang] || words.en;
  const links = {};
  for (const p of s.ports || []) {
    const key = `port-${p.node}-${p.name}`;
    links[key] = p.url;
    const tab = document.createElement("button");
    tab.type = "button";
    tab.setAttribute("role", "tab");
    tab.id = "tab-" + key;
    tab.className = "port-tab";
    tab.dataset.port = p.port;
    tab.tabIndex = -1;
    tab.setAttribute("aria-selected", "false");
    tab.setAttribute("aria-controls", "pane-" + key);
    tab.textContent = (p.title && (p.title[lang] || p.title.en)) || p.name;
    const pane = document.createElement("div");
    pane.id = "pane-" + key;
    pane.className = "pane port-pane";
    pane.setAttribute("role", "tabpanel");
    pane.setAttribute("aria-labelledby", tab.id);
    pane.hidden = true;
    const bar = document.createElement("div");
    bar.className = "port-bar";
    const where = document.createElement("code");
    const origin = new URL(p.url).origin;
    where.textContent = `${w.endpoint}: ${origin}`;
    const open = document.createElement("button");
    open.type = "button";
    open.className = "port-open";
    open.textContent = w.open;
    open.addEventListener("click", async () => {
      // Opened now, while the click counts; aimed once the link is fresh.
      const win = window.open("about:blank", "_blank");
      if (!win) return;
      win.opener = null;
      try {
        win.location = await freshURL(call, s.id, p);
      } catch {
        win.close();
      }
    });
    bar.append(where, " ", open);
    const frame = document.createElement("iframe");
    frame.title = tab.textContent;
    frame.className = "port-frame";
    // The port's origin is not the portal's: the frame may run its own
    // scripts and forms, never reach the portal.
    frame.referrerPolicy = "no-referrer";
    pane.append(bar, frame);
    tab.addEventListener("click", async () => {
      selectPane(tabs, panes, key);
      if (frame.src) return;
      // The first link came with the page's session; later ones are fetched.
      let u = links[key];
      delete links[key];
      if (!u) u = await freshURL(call, s.id, p).catch(() => "");
      if (u) frame.src = u;
    });
    tabs.append(tab);
    panes.append(pane);
  }
}

// portLinks is the lecturer console's view of a trainee's web ports: a
// disclosure that, each time it opens, fetches fresh links (the lecturer's
// own: labd checks they watch the trainee) and lists them, each opening
// the port in a new window.
export function portLinks(call, sessionID, lang) {
  const w = words[lang] || words.en;
  const box = document.createElement("details");
  box.className = "port-links";
  const sum = document.createElement("summary");
  sum.textContent = w.ports;
  const list = document.createElement("ul");
  box.append(sum, list);
  box.addEventListener("toggle", async () => {
    if (!box.open) return;
    list.replaceChildren();
    let s;
    try {
      s = await call("GET", `/sessions/${sessionID}`);
    } catch (e) {
      list.append(Object.assign(document.createElement("li"), { textContent: e.message }));
      return;
    }
    for (const p of s.ports || []) {
      const a = document.createElement("a");
      a.href = p.url;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.textContent = `${(p.title && (p.title[lang] || p.title.en)) || p.name} (${p.node}:${p.port})`;
      const li = document.createElement("li");
      li.append(a);
      list.append(li);
    }
    if (!list.children.length) list.append(Object.assign(document.createElement("li"), { textContent: w.none }));
  });
  return box;
}
