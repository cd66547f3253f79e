// screens/syncscreen: what is waiting, what needs attention and why, "Sync now"; language, storage, log out.

import { formatDateTime, LANGUAGES, language, localized, t } from "../i18n.js";
import { ApiError, NetworkError } from "../api.js";
import { errorLines } from "../model.js";
import * as outbox from "../outbox.js";
import { all, get, kv } from "../store.js";
import * as sync from "../sync.js";
import { busy, h, notice } from "../ui.js";

export async function render(ctx) {
  const counts = await outbox.counts();
  const problems = await outbox.knocksInState("conflict", "rejected");
  const lastSyncedAt = await kv.get("lastSyncedAt");
  const me = await kv.get("me");
  const message = h("div.messages", { "aria-live": "polite" });

  const syncButton = h("button.primary.wide", { type: "button" }, t("syncNow"));
  syncButton.addEventListener("click", () =>
    busy(syncButton, async () => {
      message.replaceChildren();
      const result = await sync.syncNow({ force: true });
      if (result.error) message.append(notice("error", syncErrorText(result.error)));
      else ctx.rerender();
    }),
  );

  // Stored on the server, counted nowhere until the organizer decides: shown, so that nobody wonders.
  const heldKnocks = await outbox.heldKnocks();
  const held = h("div.held");
  if (heldKnocks.length) {
    const list = h("ul.held-list");
    for (const knock of heldKnocks) list.append(await heldItem(knock));
    held.append(h("h2", {}, t("heldTitle")), notice("info", t("heldHelp")), list);
  }

  const attention = h("div.attention");
  if (problems.length) {
    attention.append(h("h2", {}, t("needAttention")), h("p", {}, t("attentionHelp")));
    const list = h("ul.problems");
    // Result labels from any turf on the phone (an ended turf's knocks may still be here).
    const codes = new Map((await all("assignments")).flatMap((a) => a.result_codes.map((code) => [code.code, code])));
    for (const knock of problems) list.append(await problemItem(ctx, knock, codes));
    attention.append(list);
  }

  const languages = h(
    "fieldset.question",
    {},
    h("legend", {}, t("language")),
    LANGUAGES.map(({ code, name }) =>
      h(
        "label.choice",
        { lang: code },
        h("input", { type: "radio", name: "lang", value: code, checked: language() === code, onchange: () => ctx.setLanguage(code) }),
        h("span", {}, name),
      ),
    ),
  );

  const logout = h("button.secondary.wide", { type: "button" }, t("logOut"));
  const logoutMessage = h("div.messages", { "aria-live": "polite" });
  logout.addEventListener("click", () =>
    busy(logout, async () => {
      logoutMessage.replaceChildren();
      const refusal = await ctx.logout();
      if (refusal) logoutMessage.append(notice("error", refusal));
    }),
  );
  const persisted = await kv.get("storagePersisted");
  return h(
    "section.screen-sync",
    {},
    h("h1", {}, t("sync")),
    h("p", { "data-testid": "waiting" }, t("waitingKnocks", { n: counts.pending })),
    h("p.muted", {}, lastSyncedAt ? t("lastSynced", { time: formatDateTime(lastSyncedAt) }) : t("neverSynced")),
    message,
    h("div.actions", {}, syncButton),
    attention,
    held,
    h("h2", {}, t("settings")),
    languages,
    persisted === undefined ? null : h("p.muted", {}, persisted ? t("storagePersisted") : t("storageNotPersisted")),
    me ? h("p", {}, t("loggedInAs", { user: me.username, org: me.organization ? me.organization.name : "" })) : null,
    logoutMessage,
    h("div.actions", {}, logout),
    h("p.muted.small", {}, t("version", { v: document.documentElement.dataset.version || "" })),
  );
}

function syncErrorText(error) {
  if (!navigator.onLine) return t("offlineAction");
  if (error instanceof NetworkError) return t("unreachable");
  if (error instanceof ApiError && error.status >= 500) return t("unreachable");
  return t("error", { detail: error.message });
}

async function heldItem(knock) {
  const door = await get("doors", knock.door);
  const why = knock.heldReason === "off_list" ? t("heldOffList") : knock.heldReason === "outside_time" ? t("heldOutsideTime") : "";
  return h("li.held-knock", { "data-knock": knock.id }, `${door ? door.address : `#${knock.door}`} · ${formatDateTime(knock.recorded_at)}${why ? ` · ${why}` : ""}`);
}

async function problemItem(ctx, knock, codes) {
  const door = await get("doors", knock.door);
  const where = door ? door.address : `#${knock.door}`;
  // Our explanation of a conflict, then the server's own words.
  const reasons = [...(knock.state === "conflict" ? [t("conflictReason")] : []), ...errorLines(knock.errors)];
  const code = codes.get(knock.result);
  const remove = h("button.secondary", { type: "button" }, t("removeKnock"));
  remove.addEventListener("click", () =>
    busy(remove, async () => {
      await outbox.discardKnock(knock.id);
      await sync.refreshCounts();
      ctx.rerender();
    }),
  );
  return h(
    "li.problem",
    { "data-knock": knock.id, "data-state": knock.state },
    h("p", {}, h("strong", {}, `⚠ ${knock.state === "conflict" ? t("conflict") : t("rejected")}: `), `${where} · ${code ? localized(code, "label") : knock.result} · ${formatDateTime(knock.recorded_at)}`),
    h("ul.reasons", {}, reasons.map((line) => h("li", {}, line))),
    remove,
  );
}
