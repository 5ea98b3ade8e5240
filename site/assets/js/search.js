// search.js: the search page. Pagefind's index (built by make site after
// Hugo, one per language) is loaded on the first query, never before.
const root = document.getElementById("search");
const t = JSON.parse(root.dataset.i18n);
const input = document.getElementById("q");
const status = document.getElementById("search-status");
const list = document.getElementById("results");
let pagefind;

async function load() {
  if (!pagefind) {
    const url = "/pagefind/pagefind.js";
    pagefind = await import(url);
    await pagefind.options({ excerptLength: 24 });
    pagefind.init();
  }
  return pagefind;
}

let seq = 0;
async function search(q) {
  const mine = ++seq;
  q = q.trim();
  const u = new URL(location.href);
  if (q) u.searchParams.set("q", q);
  else u.searchParams.delete("q");
  history.replaceState(null, "", u);
  if (!q) {
    list.replaceChildren();
    status.textContent = "";
    return;
  }
  status.textContent = t.loading;
  let pf;
  try {
    pf = await load();
  } catch (e) {
    status.textContent = e.message;
    return;
  }
  const res = await pf.debouncedSearch(q, {}, 200);
  if (res === null || mine !== seq) return; // a newer query is on its way
  const data = await Promise.all(res.results.slice(0, 20).map((r) => r.data()));
  if (mine !== seq) return;
  list.replaceChildren(
    ...data.map((d) => {
      const li = document.createElement("li");
      li.className = "item";
      const h = document.createElement("h2");
      h.className = "h3";
      const a = document.createElement("a");
      a.href = d.url;
      a.textContent = d.meta.title || d.url;
      h.append(a);
      const p = document.createElement("p");
      // Pagefind's excerpt is the page's own text with <mark> around hits.
      p.innerHTML = d.excerpt;
      li.append(h, p);
      return li;
    }),
  );
  status.textContent = res.results.length
    ? t.results.replace("%d", res.results.length)
    : t.none;
}

input.addEventListener("input", () => search(input.value));
document.getElementById("search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  search(input.value);
});
const q = new URLSearchParams(location.search).get("q");
if (q) {
  input.value = q;
  search(q);
}
