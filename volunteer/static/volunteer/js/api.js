// api: the documented fieldops API over fetch, with the device token; errors as three kinds the screens can tell apart.

const BASE = "/api/v1/";

let token = null;
let onAuthLost = () => {};

export function setToken(value) {
  token = value || null;
}

/** Logged in on this phone (the token read from IndexedDB at start-up, or given at login). */
export function hasToken() {
  return token !== null;
}

/** Called once when the server says the token is no good (expired, revoked): the app asks to log in again. */
export function setAuthLostHandler(handler) {
  onAuthLost = handler;
}

/** The server answered with an error status: `detail` and `errors` are its JSON error body. */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `HTTP ${status}`);
    this.status = status;
    this.detail = (body && body.detail) || "";
    this.errors = (body && body.errors) || {};
    this.retryAfter = body && body.retry_after_seconds;
  }
}

/** The token is expired or revoked: log in again (knocks stay on the phone). */
export class AuthError extends ApiError {}

/** No answer at all: offline, timed out, connection dropped. Says nothing about whether a write was stored. */
export class NetworkError extends Error {}

const AUTH_DETAIL = "log in again";

/** The app's shell version (volunteer/shell.py: a digest of its files), told to the server on every request. */
export const APP_VERSION =
  (typeof document !== "undefined" && document.documentElement && document.documentElement.dataset.version) ||
  "unknown";

/** The API version of the server's last answer (X-Fieldops-Api-Version, docs/api.md "Versioning"), or null. */
let serverApiVersion = null;

export function apiVersion() {
  return serverApiVersion;
}

export async function request(method, path, { body, query, timeoutMs = 30000, onProgress } = {}) {
  const url = new URL(BASE + path, location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  const headers = { Accept: "application/json", "X-Fieldops-App-Version": APP_VERSION };
  if (token) headers.Authorization = `Token ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response;
  let text;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
      credentials: "omit", // the token only: an admin session in the same browser must not count
      cache: "no-store",
    });
    text = onProgress ? await readWithProgress(response, onProgress) : await response.text();
  } catch (error) {
    throw new NetworkError(error && error.name === "AbortError" ? "timed out" : String(error && error.message));
  } finally {
    clearTimeout(timer);
  }
  serverApiVersion = response.headers.get("X-Fieldops-Api-Version") || serverApiVersion;
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: `The server answered ${response.status} without JSON.` };
    }
  }
  if (response.ok) return data;
  // 401: no token, or one the server no longer takes (expired, revoked): log in again.
  // A 403 is "not allowed" and keeps the login; only a server from before the 401
  // rule (docs/api.md) said "log in again" with a 403, and that is still understood.
  const isAuth =
    response.status === 401 ||
    (response.status === 403 && data && String(data.detail || "").toLowerCase().includes(AUTH_DETAIL));
  if (isAuth && token) {
    const error = new AuthError(response.status, data);
    onAuthLost(error);
    throw error;
  }
  throw new ApiError(response.status, data);
}

async function readWithProgress(response, onProgress) {
  const total = Number(response.headers.get("Content-Length")) || 0;
  if (!response.body || !response.body.getReader) return response.text();
  const reader = response.body.getReader();
  const chunks = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    onProgress(received, total);
  }
  const bytes = new Uint8Array(received);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(bytes);
}

export const api = {
  login: (body) => request("POST", "auth/token/", { body }),
  logout: () => request("DELETE", "auth/token/"),
  me: () => request("GET", "me/"),
  shifts: () => request("GET", "shifts/", { query: { page_size: 50 } }),
  signup: (id) => request("POST", `shifts/${id}/signup/`, { body: {} }),
  cancel: (id) => request("POST", `shifts/${id}/cancel/`, { body: {} }),
  checkIn: (id, position) => request("POST", `shifts/${id}/check-in/`, { body: position || {} }),
  checkOut: (id) => request("POST", `shifts/${id}/check-out/`, { body: {} }),
  assignments: () => request("GET", "assignments/", { query: { page_size: 100 } }),
  walkList: (id, onProgress) => request("GET", `assignments/${id}/walk-list/`, { onProgress, timeoutMs: 120000 }),
  push: (body) => request("POST", "sync/push/", { body, timeoutMs: 60000 }),
  pull: (cursor, assignments) =>
    request("GET", "sync/pull/", { query: { cursor, assignments: assignments.join(",") }, timeoutMs: 60000 }),
};
