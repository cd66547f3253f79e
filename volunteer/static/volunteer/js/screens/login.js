// screens/login: username and password; the device token and the device id stay on the phone.

import { api, ApiError, NetworkError, setToken } from "../api.js";
import { t } from "../i18n.js";
import * as outbox from "../outbox.js";
import { kv } from "../store.js";
import { busy, h, notice } from "../ui.js";

export async function render(ctx) {
  const previous = await kv.get("me");
  const expired = await kv.get("authLost");
  const message = h("div.messages", { "aria-live": "polite" });
  if (expired) message.append(notice("info", t("loginAgain")));
  const username = h("input#username", {
    name: "username",
    autocomplete: "username",
    autocapitalize: "none",
    spellcheck: "false",
    required: true,
    value: previous ? previous.username : "",
  });
  const password = h("input#password", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button.primary.wide", { type: "submit" }, t("logIn"));
  const form = h(
    "form.login",
    {
      onsubmit: (event) => {
        event.preventDefault();
        busy(submit, () => logIn(ctx, username.value.trim(), password.value, message, previous));
      },
    },
    h("label", { for: "username" }, t("username")),
    username,
    h("label", { for: "password" }, t("password")),
    password,
    message,
    h("div.actions", {}, submit),
  );
  return h("section.screen-login", {}, h("h1", {}, t("appName")), form);
}

async function logIn(ctx, username, password, message, previous) {
  message.replaceChildren();
  const waiting = await outbox.counts();
  if (previous && previous.username !== username && waiting.pending + waiting.attention > 0) {
    message.append(notice("error", t("logoutRefused", { n: waiting.pending + waiting.attention }) + ` (${previous.username})`));
    return;
  }
  let deviceId = await kv.get("deviceId");
  if (!deviceId) {
    deviceId = crypto.randomUUID();
    await kv.set("deviceId", deviceId);
  }
  try {
    const answer = await api.login({ username, password, device_id: deviceId, device_name: deviceName() });
    await kv.set("token", answer.token);
    await kv.set("me", answer.me);
    await kv.del("authLost");
    setToken(answer.token);
    await ctx.loggedIn(answer.me);
  } catch (error) {
    let text = t("error", { detail: error.message });
    if (error instanceof NetworkError) text = t("loginOffline");
    else if (error instanceof ApiError && error.status === 429) {
      text = t("tooManyLogins", { minutes: Math.max(1, Math.ceil((error.retryAfter || 60) / 60)) });
    } else if (error instanceof ApiError && error.status === 400) text = t("wrongLogin");
    message.append(notice("error", text));
  }
}

function deviceName() {
  const ua = navigator.userAgent;
  const platform = /iPhone|iPad/.test(ua) ? "iPhone" : /Android/.test(ua) ? "Android" : "Browser";
  return `${platform} (web app)`;
}
