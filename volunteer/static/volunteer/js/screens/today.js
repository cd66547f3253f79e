// screens/today: my turfs (download for offline use) and the upcoming shifts (sign up, cancel, check in and out).

import { api, ApiError, NetworkError } from "../api.js";
import * as geo from "../geo.js";
import { formatDateTime, formatTime, t } from "../i18n.js";
import * as outbox from "../outbox.js";
import { kv } from "../store.js";
import * as sync from "../sync.js";
import { busy, h, notice } from "../ui.js";

/** Fresh from the server when online (and kept for offline), else what was kept. */
async function fetchOrCached(key, load) {
  try {
    const answer = await load();
    const value = { results: answer.results, at: new Date().toISOString() };
    await kv.set(key, value);
    return { ...value, live: true };
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    const kept = (await kv.get(key)) || { results: [], at: null };
    return { ...kept, live: false };
  }
}

export async function render(ctx) {
  const root = h("section.screen-today");
  const notices = await sync.takeNotices();
  if (notices.length) {
    const box = notice(
      "info",
      notices.map((n) => t("turfEnded", { turf: n.turf })).join(" "),
      h("button.secondary", { type: "button", onclick: async () => (await sync.dismissNotices(), box.remove()) }, t("dismiss")),
    );
    root.append(box);
  }
  const [assignments, shifts, downloaded] = await Promise.all([
    fetchOrCached("assignmentsCache", api.assignments).catch((error) => ({ error, results: [] })),
    fetchOrCached("shiftsCache", api.shifts).catch((error) => ({ error, results: [] })),
    sync.downloadedAssignments(),
  ]);
  root.append(h("h1", {}, t("myTurfs")), turfList(ctx, assignments, downloaded));
  root.append(h("h2", {}, t("shifts")), shiftList(ctx, shifts));
  return root;
}

function cachedNote(list) {
  if (list.error) return notice("error", t("error", { detail: list.error.message }));
  return list.live || !list.at ? null : h("p.muted", {}, t("cachedAt", { time: formatDateTime(list.at) }));
}

function turfList(ctx, list, downloaded) {
  const held = new Map(downloaded.map((a) => [a.id, a]));
  // What the server lists, plus what is on the phone (offline, the server's list may be old).
  const items = list.results.map((a) => ({ id: a.id, name: a.turf.name, doors: a.turf.door_count, campaign: a.campaign.name, starts: a.starts_at, ends: a.ends_at }));
  for (const a of downloaded) {
    if (!items.some((item) => item.id === a.id)) items.push({ id: a.id, name: a.turf.name, doors: a.doorIds.length, campaign: a.campaign.name, starts: a.assignment.starts_at, ends: a.assignment.ends_at });
  }
  const box = h("div.cards", {}, cachedNote(list));
  if (!items.length) box.append(h("p", {}, t("noAssignments")));
  for (const item of items) box.append(turfCard(ctx, item, held.get(item.id)));
  return box;
}

function turfCard(ctx, item, held) {
  const status = h("p.turf-state", { "aria-live": "polite" });
  const bar = h("progress", { max: "100", hidden: true, "aria-label": t("downloading") });
  const download = h("button", { type: "button", class: held ? "secondary" : "primary wide" }, held ? t("downloadAgain") : t("downloadTurf"));
  download.addEventListener("click", () =>
    busy(download, async () => {
      bar.hidden = false;
      bar.removeAttribute("value");
      status.replaceChildren(t("downloading"));
      try {
        // Ask now, on the volunteer's tap, that the browser keep this data (iOS and Chrome honour it).
        const persisted = navigator.storage && navigator.storage.persist ? navigator.storage.persist().catch(() => false) : Promise.resolve(false);
        await sync.downloadAssignment(item.id, (phase, done, total) => {
          if (phase === "download" && total) {
            bar.max = total;
            bar.value = done;
          }
          if (phase === "download") status.replaceChildren(`${t("downloading")} ${Math.round(done / 1024)} KB`);
          if (phase === "save") status.replaceChildren(t("savingDoors", { n: total }));
        });
        await kv.set("storagePersisted", Boolean(await persisted));
        ctx.rerender();
      } catch (error) {
        bar.hidden = true;
        status.replaceChildren(notice("error", error instanceof NetworkError ? t("offlineAction") : t("error", { detail: error.message })));
      }
    }),
  );
  const open = held ? h("a.button.primary.wide", { href: `#/walk/${item.id}` }, t("openWalkList")) : null;
  if (held) status.append(h("span.symbol", { "aria-hidden": "true" }, "✓ "), t("readyOffline"));
  else status.append(t("notDownloaded"));
  return h(
    "article.card",
    { "data-assignment": item.id },
    h("h3", {}, item.name),
    h("p", {}, `${item.campaign} · ${t("doorsCount", { n: item.doors })}`),
    item.starts ? h("p.muted", {}, `${formatDateTime(item.starts)}${item.ends ? ` – ${formatTime(item.ends)}` : ""}`) : null,
    status,
    bar,
    h("div.actions", {}, open, download),
  );
}

function shiftList(ctx, list) {
  const box = h("div.cards", {}, cachedNote(list));
  if (!list.results.length) box.append(h("p", {}, t("noShifts")));
  for (const shift of list.results) box.append(shiftCard(ctx, shift));
  return box;
}

function shiftCard(ctx, shift) {
  const message = h("div.messages", { "aria-live": "polite" });
  const act = (label, work, cls = "secondary") => {
    const button = h("button", { type: "button", class: cls }, label);
    button.addEventListener("click", () =>
      busy(button, async () => {
        message.replaceChildren();
        try {
          const text = await work(); // a message to show, or anything else: draw the card again
          if (typeof text === "string") message.append(notice("ok", text));
          else ctx.rerender();
        } catch (error) {
          const detail = error instanceof NetworkError ? t("offlineAction") : t("error", { detail: errorText(error) });
          message.append(notice("error", detail));
        }
      }),
    );
    return button;
  };
  const actions = h("div.actions");
  // Signed up, and the server says how far the shift has got (checked_in, checked_out).
  const signedUp = ["signed_up", "checked_in", "checked_out"].includes(shift.my_status);
  if (signedUp && !shift.my_checked_in_at) {
    actions.append(
      act(t("checkIn"), async () => {
        const position = await geo.fresh();
        await api.checkIn(shift.id, position ? { lat: position.lat, lng: position.lng } : {});
      }, "primary"),
      act(t("cancelSignup"), () => api.cancel(shift.id)),
    );
  } else if (signedUp && !shift.my_checked_out_at) {
    actions.append(
      act(t("checkOut"), async () => {
        await sync.syncNow({ force: true }); // send what is waiting first
        const { pending, attention } = await outbox.counts();
        await api.checkOut(shift.id);
        return pending + attention ? t("checkedOutWaiting", { n: pending + attention }) : t("checkedOutAllSent");
      }, "primary"),
    );
  } else if (!signedUp && shift.places_left > 0) {
    actions.append(act(t("signUp"), () => api.signup(shift.id), "primary"));
  }
  const state = [];
  if (signedUp) state.push(`✓ ${t("signedUp")}`);
  if (shift.my_checked_in_at) state.push(t("checkedInAt", { time: formatTime(shift.my_checked_in_at) }));
  if (shift.my_checked_out_at) state.push(t("checkedOutAt", { time: formatTime(shift.my_checked_out_at) }));
  return h(
    "article.card",
    { "data-shift": shift.id },
    h("h3", {}, shift.name),
    h("p", {}, `${formatDateTime(shift.starts_at)} – ${formatTime(shift.ends_at)}`),
    shift.location_name ? h("p.muted", {}, shift.location_name) : null,
    h("p", {}, shift.places_left > 0 ? t("placesLeft", { n: shift.places_left }) : t("full")),
    state.length ? h("p.state", {}, state.join(" · ")) : null,
    message,
    actions,
  );
}

function errorText(error) {
  if (!(error instanceof ApiError)) return error.message;
  const lines = Object.values(error.errors || {}).flat().map(String);
  return lines.length ? lines.join(" ") : error.detail;
}
