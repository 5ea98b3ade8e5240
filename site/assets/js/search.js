// search.js: the search page. Pagefind's index (built by make site after
// Hugo, one per language) is loaded on the first query, never before.
const root = document.getElementById("search");
const t = JSON.parse(root.dataset.i18n);
const input = document.getElementById("q");
const status = document.getElementById("search-status");
const list = document.getElementById("results");

// One load for every query: keystrokes typed while Pagefind loads all wait
// for the same promise (a failed load is tried again by the next query).
let loading;
function load() {
  if (!loading) {
    const url = "/pagefind/pagefind.js";
    loading = import(url).then(async (pf) => {
      await pf.options({ excerptLength: 24 });
      await pf.init();
      return pf;
    });
    loading.catch(() => (loading = undefined));
  }
  return loading;
}

// Only the latest query renders: each search takes a number, and one that
// finds a newer number when it resumes stops there. Typing is debounced
// here (Pagefind's own debouncedSearch drops calls that are overtaken, and
// calls made after an await can overtake the newest query).
let seq = 0;
let timer;
function searchSoon(q) {
  clearTimeout(timer);
  const mine = ++seq;
  status.textContent = q.trim() ? t.loading : "";
  load().catch(() => {}); // start loading on the first key, while the user types
  timer = setTimeout(() => search(q, mine), 150);
}

async function search(q, mine = ++seq) {
  clearTimeout(timer);
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
  let res;
  try {
    const pf = await load();
    if (mine !== seq) return; // a newer query is on its way
    res = await pf.search(q);
  } catch (e) {
    if (mine === seq) status.textContent = e.message;
    return;
  }
  if (mine !== seq) return;
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

input.addEventListener("input", () => searchSoon(input.value));
document.getElementById("search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  search(input.value);
});
const q = new URLSearchParams(location.search).get("q");
if (q) {
  input.value = q;
  search(q);
}
