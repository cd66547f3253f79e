// app: start-up, the hash router, the tabs, the sync status in view, and the "new version" offer.

import { api, hasToken, setAuthLostHandler, setToken } from "./api.js";
import { defaultLanguage, formatTime, setLanguage, setTimeZone, t } from "./i18n.js";
import * as outbox from "./outbox.js";
import { clearAccount, kv } from "./store.js";
import * as sync from "./sync.js";
import { h, hideToast, notice, toast } from "./ui.js";
import * as loginScreen from "./screens/login.js";

// The login screen comes with the page (the first visit shows it); the others load when first opened
// (the service worker has them all, so this costs nothing offline) to keep the first start short.
const ROUTES = [
  [/^#\/login$/, async () => loginScreen, () => ({})],
  [/^#\/today$/, () => import("./screens/today.js"), () => ({})],
  [/^#\/walk\/(\d+)$/, () => import("./screens/walk.js"), (m) => ({ assignmentId: Number(m[1]) })],
  [/^#\/door\/(\d+)\/(\d+)$/, () => import("./screens/door.js"), (m) => ({ assignmentId: Number(m[1]), doorId: Number(m[2]) })],
  [/^#\/sync$/, () => import("./screens/syncscreen.js"), () => ({})],
];

const screenEl = document.getElementById("screen");
const tabsEl = document.getElementById("tabs");
const statusEl = document.getElementById("sync-status");
let me = null;
let renderSeq = 0;
let lastWalk = null;
const lastDoors = new Map();
let waitingWorker = null;
let backFromDoor = false;
// The hash the screen shows (a history.back() changes the URL a moment after the screen).
let shownHash = null;
// The door's hash when it was opened from its walk list by a tap: going back is then history.back(),
// so that the phone's Back button does not open the saved door again.
let doorOpenedFromList = null;
// The walk list stays built (hidden) while one of its doors is open; back from the door only the
// doors that changed meanwhile are redrawn.
let kept = null;
const changedDoors = new Map(); // door id -> the door as stored, or null: read it again

const ctx = {
  navigate(hash) {
    // pushState and draw now: going through "hashchange" would wait for another task.
    if (location.hash !== hash) {
      // Marked for backToList(): a door pushed from its walk list is left with history.back().
      history.pushState({ fromList: /^#\/door\//.test(hash) && screenEl.dataset.screen === "walk" }, "", hash);
      hideToastOnLeave();
    }
    render();
  },
  rerender: () => render({ keepScroll: true }),
  /** After a knock: back to the door's walk list (the history entry before the door, when it was opened from there). */
  backToList(assignmentId) {
    const hash = `#/walk/${assignmentId}`;
    if (doorOpenedFromList && doorOpenedFromList === location.hash) {
      doorOpenedFromList = null;
      render({ hash }); // now; the URL follows when history.back() lands, and the router then has nothing to do
      history.back();
    } else {
      ctx.navigate(hash);
    }
  },
  async loggedIn(profile) {
    me = profile;
    setTimeZone(me.timezone);
    await sync.start();
    ctx.navigate("#/today");
  },
  async setLanguage(code) {
    setLanguage(code);
    await kv.set("lang", code);
    renderTabs();
    render({ keepScroll: true });
  },
  rememberWalk(id) {
    lastWalk = id;
    renderTabs();
    kv.set("lastWalk", id).catch(() => {}); // for the Walk list tab after a restart; nothing waits for it
  },
  /** A knock was saved at `door` (as it is now stored): back on the walk list, it is redrawn without a read. */
  setLastDoor(assignmentId, doorId, door = null) {
    lastDoors.set(assignmentId, doorId);
    changedDoors.set(doorId, door);
    backFromDoor = true;
  },
  /** Doors whose last result changed (a knock, an undo, a pull): redraw them where the walk list shows them. */
  doorsChanged(doorIds) {
    for (const id of doorIds) changedDoors.set(id, null);
    if (kept && screenEl.dataset.screen === "walk" && kept.isConnected) refreshKept();
  },
  lastDoor: (assignmentId) => lastDoors.get(assignmentId) ?? null,
  /** True once after a door was saved: the walk list then brings the next door into view. */
  backFromDoor() {
    const value = backFromDoor;
    backFromDoor = false;
    return value;
  },
  /** Log out, unless knocks would be lost: then the reason, for the screen to show. */
  async logout() {
    await sync.syncNow({ force: true });
    const { pending, attention } = await outbox.counts();
    if (pending) return t("logoutRefused", { n: pending });
    if (attention) return t("logoutAttention", { n: attention });
    try {
      await api.logout();
    } catch {
      // offline or already expired: the token is forgotten here all the same
    }
    sync.stop();
    setToken(null);
    await clearAccount();
    me = null;
    lastWalk = null;
    ctx.navigate("#/login");
    return null;
  },
};

async function render({ keepScroll = false, hash: target = null } = {}) {
  const seq = ++renderSeq;
  const token = hasToken();
  let hash = target || location.hash || "#/today";
  if (!token && hash !== "#/login") {
    location.replace("#/login");
    hash = "#/login";
  }
  if (token && hash === "#/login") {
    location.replace("#/today");
    hash = "#/today";
  }
  const route = ROUTES.find(([pattern]) => pattern.test(hash)) || ROUTES[1];
  const params = route[2](hash.match(route[0]) || []);
  const name = hash.split("/")[1] || "today";
  // Read only where needed: reading it makes the browser lay out a page that has just changed.
  const scroll = keepScroll ? window.scrollY : 0;
  const from = screenEl.dataset.screen;
  const opener = from === "walk" && name === "door" ? shownHash : null;
  shownHash = hash;
  doorOpenedFromList = null;
  if (name === "walk" && from === "door" && kept && kept.assignmentId === params.assignmentId && !keepScroll) {
    await showKept(seq);
    return;
  }
  let content;
  try {
    content = await (await route[1]()).render(ctx, params);
  } catch (error) {
    console.error(error);
    content = notice("error", t("error", { detail: error.message }));
  }
  if (seq !== renderSeq) return; // a newer navigation won
  const keep = name === "door" && kept && kept.assignmentId === params.assignmentId && kept.isConnected;
  if (keep) {
    // Into a door from its walk list: the door opens over the list as a modal dialog, and the list
    // stays exactly as it is, so that none of its 1,000 rows is styled or laid out again (marking
    // the list inert cost a restyle of every row: 90 ms a tap on a slow phone).
    content.classList.add("over-list");
    content.setAttribute("role", "dialog");
    content.setAttribute("aria-modal", "true");
    content.setAttribute("aria-label", content.querySelector("h1")?.textContent || "");
    onlyKept();
    screenEl.append(content);
    placeOverlay();
    screenEl.dataset.screen = name;
    renderTabs();
    content.scrollTop = 0;
    content.focus({ preventScroll: true });
    // Opened by a tap in the list (the entry before it is the list), not by a reload or a link.
    if (opener === `#/walk/${params.assignmentId}` && history.state?.fromList) doorOpenedFromList = hash;
    return;
  } else {
    screenEl.replaceChildren(content);
    kept = name === "walk" && content.refresh ? content : null;
    changedDoors.clear();
  }
  screenEl.dataset.screen = name;
  tabsEl.hidden = !token;
  statusEl.hidden = !token;
  renderTabs();
  if (keepScroll) window.scrollTo(0, scroll);
  else {
    window.scrollTo(0, 0);
    screenEl.focus({ preventScroll: true });
  }
  if (name === "walk" && ctx.backFromDoor()) requestAnimationFrame(() => content.bringNextIntoView?.());
}

/** Back from a door to its walk list: close the door over it, redraw the doors that changed. The
 * page's scroll is the list's own (the door scrolled in its overlay), so nothing moves. */
async function showKept(seq) {
  onlyKept();
  screenEl.dataset.screen = "walk";
  renderTabs();
  await refreshKept();
  if (seq !== renderSeq) return;
  // Bring the next door into view once the saved door has been shown: scrolling measures the list,
  // and that need not hold up the confirmation.
  if (ctx.backFromDoor()) afterPaint(() => kept.bringNextIntoView());
}

/** Run `work` when the browser is idle after the next paint (at most 300 ms later). */
function afterPaint(work) {
  requestAnimationFrame(() => {
    if ("requestIdleCallback" in window) requestIdleCallback(work, { timeout: 300 });
    else setTimeout(work, 50);
  });
}

/** An open door's overlay starts under the top bar (whose height grows with the update offer). */
let barHeight = null; // measured once, and again when the update offer changes it

function placeOverlay() {
  const overlay = screenEl.querySelector(".over-list");
  if (!overlay) return;
  if (barHeight === null) barHeight = document.querySelector(".topbar").offsetHeight;
  overlay.style.top = `${barHeight}px`;
}

/** Take everything but the kept list out of the screen, without moving the list (moving it lays it out anew). */
function onlyKept() {
  for (const child of [...screenEl.children]) if (child !== kept) child.remove();
  if (!kept.isConnected) screenEl.append(kept);
}

async function refreshKept() {
  const changed = [...changedDoors.entries()];
  changedDoors.clear();
  // The map: drawn again whole, at the walk list's address (after a save, history.back() may not have landed yet).
  if (!(await kept.refresh(changed))) await render({ keepScroll: true, hash: shownHash });
}

let tabsDrawn = "";

function renderTabs() {
  const current = location.hash.split("/")[1] || "today";
  const walkHref = lastWalk ? `#/walk/${lastWalk}` : "#/today";
  const key = `${walkHref}|${t("today")}`;
  if (key === tabsDrawn) {
    // The same tabs: only the current one changes (a door and its walk list are the same tab).
    for (const tab of tabsEl.children) {
      const name = tab.dataset.tab;
      const now = current === name || (name === "walk" && current === "door") ? "page" : null;
      if (tab.getAttribute("aria-current") !== now) {
        if (now) tab.setAttribute("aria-current", now);
        else tab.removeAttribute("aria-current");
      }
    }
    return;
  }
  tabsDrawn = key;
  const tab = (href, name, label) =>
    h("a.tab", { href, "data-tab": name, "aria-current": current === name || (name === "walk" && current === "door") ? "page" : null }, label);
  tabsEl.replaceChildren(tab("#/today", "today", t("today")), tab(walkHref, "walk", t("walkList")), tab("#/sync", "sync", t("sync")));
}

function showStatus(status) {
  const text = {
    synced: status.at ? t("statusSynced", { time: formatTime(status.at) }) : t("statusSyncedNever"),
    waiting: t("statusWaiting", { n: status.count }),
    syncing: t("statusSyncing"),
    offline: status.count ? t("statusOffline", { n: status.count }) : t("statusOfflineNone"),
    attention: t("statusAttention", { n: status.count }),
  }[status.state];
  const symbol = { synced: "✓", waiting: "↑", syncing: "↻", offline: "⨯", attention: "⚠" }[status.state];
  if (statusEl.dataset.state !== status.state || !statusEl.querySelector(".status-text")) {
    statusEl.dataset.state = status.state;
    statusEl.replaceChildren(h("span.symbol", { "aria-hidden": "true" }, symbol), h("span.status-text", {}, text));
  } else {
    statusEl.querySelector(".status-text").textContent = text; // a count changed: the text alone
  }
  statusEl.setAttribute("aria-label", `${t("sync")}: ${text}`);
}

// --- Updates: a new service worker waits until the volunteer says so, never while a door is open.

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  const registration = await navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" });
  const offer = (worker) => {
    if (!worker || !navigator.serviceWorker.controller) return; // the first install needs no offer
    waitingWorker = worker;
    showUpdateOffer();
  };
  if (registration.waiting) offer(registration.waiting);
  registration.addEventListener("updatefound", () => {
    const worker = registration.installing;
    worker.addEventListener("statechange", () => {
      if (worker.state === "installed") offer(worker);
    });
  });
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (waitingWorker && !reloading) {
      reloading = true;
      location.reload();
    }
  });
  // Look for a new version when the app comes back to the front.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") registration.update().catch(() => {});
  });
}

function showUpdateOffer() {
  document.getElementById("update-banner")?.remove();
  const button = h("button.primary", {
    type: "button",
    onclick: () => {
      if (screenEl.dataset.screen === "door") {
        toast(t("updateAfterDoor"));
        return;
      }
      waitingWorker.postMessage({ type: "skip-waiting" });
    },
  }, t("update"));
  const banner = h("div#update-banner.update-banner", { role: "status" }, h("span", {}, t("updateReady")), button);
  document.querySelector(".topbar").append(banner); // in the bar that stays on top, over an open door too
  barHeight = null;
  placeOverlay();
}

async function boot() {
  setLanguage((await kv.get("lang")) || defaultLanguage(navigator.languages));
  const token = await kv.get("token");
  me = await kv.get("me");
  lastWalk = (await kv.get("lastWalk")) || null;
  if (me) setTimeZone(me.timezone);
  setToken(token);
  setAuthLostHandler(async () => {
    // Keep every knock; only the token is gone. The login screen says why.
    await kv.del("token");
    await kv.set("authLost", true);
    setToken(null);
    sync.stop();
    ctx.navigate("#/login");
  });
  sync.onStatus(showStatus);
  sync.onAssignmentsEnded((ended) => {
    // Leave only the walk list or door of a turf that left the phone (what the URL says now, not what was drawn).
    const open = location.hash.match(/^#\/(?:walk|door)\/(\d+)/);
    if (open && ended.some((a) => a.id === Number(open[1]))) ctx.navigate("#/today");
    else if (screenEl.dataset.screen === "today") ctx.rerender();
  });
  sync.onDoorsChanged((ids) => ctx.doorsChanged(ids));
  statusEl.addEventListener("click", () => ctx.navigate("#/sync"));
  window.addEventListener("hashchange", () => {
    if (location.hash === shownHash) return; // the screen is there already (backToList)
    hideToastOnLeave();
    render();
  });
  await render();
  if (token) sync.start();
  registerWorker().catch((error) => console.warn("service worker", error));
}

function hideToastOnLeave() {
  // The toast (with its Undo) stays across the walk list and the door; other screens drop it.
  if (!/^#\/(walk|door)\//.test(location.hash)) hideToast();
}

boot();
