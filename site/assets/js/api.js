// api.js: the one way the site's pages talk to labd. Browsers are signed in
// by labd's session cookie (HttpOnly); unsafe methods carry the CSRF header,
// whose value labd put in the readable labd_csrf cookie at sign-in. Scripts
// and tests may instead keep a bearer token in sessionStorage["labd.token"].
export class APIError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details; // structured, for some codes (invalid_roster: the bad lines)
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
// decoded JSON body (null for 204) and rejects with an APIError. A body is
// sent as JSON unless type names another media type (then it goes as is).
export async function api(method, path, body, type) {
  const r = await request(method, path, body, type);
  if (r.status === 204) return null;
  return r.json().catch(() => ({}));
}

// request is api's raw form: it resolves to the successful Response (for
// files such as recordings) and rejects with an APIError.
export async function request(method, path, body, type) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN);
  if (token) headers.Authorization = "Bearer " + token;
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = cookie("labd_csrf");
  if (body !== undefined) headers["Content-Type"] = type || "application/json";
  const r = await fetch("/api" + path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : type ? body : JSON.stringify(body),
  });
  if (!r.ok) {
    const data = await r.json().catch(() => ({}));
    const e = data.error || {};
    throw new APIError(r.status, e.code || "http_" + r.status, e.message || r.statusText, e.details);
  }
  return r;
}

// signInURL is the login page of the page's language, returning here after.
export function signInURL(lang) {
  return `/${lang}/login/?next=` + encodeURIComponent(location.pathname + location.search);
}
