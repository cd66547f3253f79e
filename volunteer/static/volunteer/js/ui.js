// ui: building DOM without a framework (h), the toast with its action, and small shared widgets.

/** h("button#id.primary", {onclick, type: "button"}, "text", child…): an element; attributes starting with "on" are listeners. */
export function h(tag, attrs = {}, ...children) {
  const [head, ...classes] = tag.split(".");
  const [name, id] = head.split("#");
  const element = document.createElement(name);
  if (id) element.id = id;
  if (classes.length) element.className = classes.join(" ");
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "class") element.className = [element.className, value].filter(Boolean).join(" ");
    else if (key === "text") element.textContent = value;
    else if (value === true) element.setAttribute(key, "");
    else element.setAttribute(key, value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : String(child));
  }
}

let toastTimer = null;

/** A message at the bottom; with `action` ({label, run}) a button, e.g. Undo. Stays `ms` milliseconds. */
export function toast(message, { action = null, ms = 4000 } = {}) {
  const box = document.getElementById("toast");
  clearTimeout(toastTimer);
  box.replaceChildren(h("span.toast-text", {}, message));
  if (action) {
    const run = async () => {
      box.hidden = true;
      await action.run();
    };
    box.append(h("button.toast-action", { type: "button", onclick: run }, action.label));
  }
  box.hidden = false;
  toastTimer = setTimeout(() => {
    box.hidden = true;
  }, ms);
}

export function hideToast() {
  clearTimeout(toastTimer);
  document.getElementById("toast").hidden = true;
}

/** A notice block in the page (role=alert for errors), with a symbol so that its meaning is not in its colour alone. */
export function notice(kind, message, ...extra) {
  const symbol = { error: "⚠", info: "ℹ", ok: "✓" }[kind] || "";
  return h(`div.notice.notice-${kind}`, { role: kind === "error" ? "alert" : "status" }, h("span.symbol", { "aria-hidden": "true" }, symbol), h("span", {}, message), ...extra);
}

/** Disable a button while `work` runs, so a double tap does one thing. */
export async function busy(button, work) {
  if (button.disabled) return undefined;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}
