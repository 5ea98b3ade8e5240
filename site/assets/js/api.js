// api.js: the one way the site's pages talk to labd. Browsers are signed in
// by labd's session cookie (HttpOnly); unsafe methods carry the CSRF header,
// whose value labd put in the readable labd_csrf cookie at sign-in. Scripts
// and tests may instead keep a bearer token in sessionStorage["labd.token"].
export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const TOKEN = "labd.token";

function cookie(name) {
  for (const c of document.cookie.split(";")) {
    const [k, ...v] = c.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return "";
}

// api calls labd: path is below /api (for example "/me"). It resolves to the
// decoded JSON body (null for 204) and rejects with an APIError.
export async function api(method, path, body) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN);
  if (token) headers.Authorization = "Bearer " + token;
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = cookie("labd_csrf");
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch("/api" + path, {
    method,
    headers,
    credentials: "same-origin",
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  if (r.status === 204) return null;
  const data = await r.json().catch(() => ({}));
  if (!r.ok) {
    const e = data.error || {};
    throw new APIError(r.status, e.code || "http_" + r.status, e.message || r.statusText);
  }
  return data;
}

// signInURL is the login page of the page's language, returning here after.
export function signInURL(lang) {
  return `/${lang}/login/?next=` + encodeURIComponent(location.pathname + location.search);
}
