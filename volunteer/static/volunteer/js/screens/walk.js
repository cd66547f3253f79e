// screens/walk: the turf's doors in walk order, grouped by building; filters, progress, next door, the map, and "nobody home" for a building.

import { formatTime, localized, t } from "../i18n.js";
import { buildingAddress, filterDoors, groupByBuilding, isDone, nextDoor, progress } from "../model.js";
import * as outbox from "../outbox.js";
import * as geo from "../geo.js";
import { getMany } from "../store.js";
import * as sync from "../sync.js";
import { busy, h, toast } from "../ui.js";

const view = { filter: "remaining", mode: "list" };

/**
 * The walk list. The element it returns has `refresh(doorIds)`: the router keeps the list while a door
 * is open and, back from it, changes only that door's row (its building, when the filter now shows
 * other doors), the progress and "Next door" (a 1,000-door list is not rebuilt for each knock).
 */
export async function render(ctx, { assignmentId }) {
  const walk = await sync.walkFromPhone(assignmentId);
  if (!walk) {
    ctx.navigate("#/today");
    return h("p", {}, t("loading"));
  }
  geo.watch();
  ctx.rememberWalk(walk.assignment.id);
  const { assignment, doors } = walk;
  const place = new Map(doors.map((door, index) => [door.id, index])); // door id -> its place in the walk
  const codes = new Map(assignment.result_codes.map((code) => [code.code, code]));

  const pick = (key) => (name) => {
    view[key] = name;
    ctx.rerender();
  };
  const filters = segmented(t("walkList"), ["remaining", "done", "all"], view.filter, pick("filter"));
  const modes = segmented(`${t("list")} / ${t("map")}`, ["list", "map"], view.mode, pick("mode"));

  let list = null;
  let body;
  if (view.mode === "map") {
    const { turfMap } = await import("../map.js");
    body = turfMap({ polygon: assignment.turf.polygon, doors, onDoor: (door) => ctx.navigate(`#/door/${assignment.id}/${door.id}`) });
  } else {
    list = doorList(ctx, assignment, doors, place, codes);
    body = list.element;
    // A door opens through the router, as "Next door" does, so that saving it can go back in history.
    body.addEventListener("click", (event) => {
      const row = event.target.closest("a.door-row");
      if (!row || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
      event.preventDefault();
      ctx.navigate(row.getAttribute("href"));
    });
  }

  const progressText = h("span");
  const progressBar = h("progress", { "aria-hidden": "true" });
  const nextButton = h("button.primary.wide", { type: "button" });
  let next = null;
  nextButton.addEventListener("click", () => next && ctx.navigate(`#/door/${assignment.id}/${next.id}`));
  const showProgress = () => {
    const stats = progress(doors, assignment.result_codes);
    progressText.textContent = t("progress", stats);
    progressBar.max = stats.total || 1;
    progressBar.value = stats.done;
    next = nextDoor(doors, ctx.lastDoor(assignment.id));
    nextButton.disabled = !next;
    nextButton.textContent = next ? `${t("nextDoor")}: ${next.address}` : t("noDoorsLeft");
  };
  showProgress();

  const element = h(
    "section.screen-walk",
    {},
    h("h1", {}, assignment.turf.name),
    h("p.progress", { "data-testid": "progress" }, progressText, progressBar),
    h("div.toolbar", {}, filters, modes),
    body,
    h("div.bottom-actions", {}, nextButton),
  );
  element.assignmentId = assignment.id;
  // changed: [[door id, the door as stored or null]]; the nulls are read from IndexedDB.
  element.refresh = async (changed) => {
    if (!list) return false;
    const unknown = changed.filter(([, door]) => !door).map(([id]) => id);
    const fresh = [...changed.map(([, door]) => door).filter(Boolean), ...(unknown.length ? await getMany("doors", unknown) : [])];
    for (const door of fresh) if (door && place.has(door.id)) doors[place.get(door.id)] = door;
    list.redraw(changed.map(([id]) => id));
    showProgress();
    return true;
  };
  element.bringNextIntoView = () => {
    const row = next && list && list.reveal(next.id); // drawn first when it is outside the window
    if (!row) return;
    row.focus({ preventScroll: true }); // where a keyboard or a screen reader goes on from
    row.scrollIntoView({ block: "center" });
  };
  return element;
}

/** A row of toggle buttons, the chosen one pressed (aria-pressed, and underlined: not by colour alone). */
function segmented(label, names, chosen, onPick) {
  return h(
    "div.segmented",
    { role: "group", "aria-label": label },
    names.map((name) => h("button", { type: "button", "aria-pressed": String(chosen === name), onclick: () => onPick(name) }, t(name))),
  );
}

// A windowed list: the buildings are cut into chunks of this many, and only the chunks within a screen
// of the visible part hold their rows (50-100 rows of a 1,000-door turf, not 1,000: building and
// painting a thousand rows was most of showing the list, and of the frame after a tap on a slow phone).
// The others are empty placeholders as tall as they were when last drawn, or as they are estimated to be.
const CHUNK = 10;
const NEAR = "100% 0px"; // drawn while within a screen's height above or below the visible part
const ROW_PX = { people: 83, alone: 61, building: 13, head: 80 }; // estimates for a chunk never drawn

/**
 * The buildings in walk order, each drawn from its doors as they are now and the filter. `redraw(doorIds)`
 * redraws theirs; `reveal(doorId)` draws the door's chunk (and its neighbours) and returns its row, or null
 * when the filter does not show it.
 */
function doorList(ctx, assignment, doors, place, codes) {
  const element = h("div.buildings", { role: "region", "aria-label": t("walkList"), "data-doors": doors.length });
  const empty = h("p.empty", {}, view.filter === "remaining" ? t("noDoorsLeft") : "—");
  const groups = groupByBuilding(doors);
  const groupOf = new Map();
  groups.forEach((group, index) => {
    for (const door of group.doors) groupOf.set(door.id, index);
  });
  const shownIds = groups.map((group) => shownKey(group)); // what each building's item shows ("" for none)
  const items = groups.map(() => null); // each building's item, while its chunk is drawn
  const chunks = Array.from({ length: Math.ceil(groups.length / CHUNK) }, () => document.createElement("ol"));
  const drawn = chunks.map(() => false);
  const range = (c) => [c * CHUNK, Math.min((c + 1) * CHUNK, groups.length)];
  const estimate = (c) => {
    let px = 0;
    const [from, to] = range(c);
    for (let index = from; index < to; index += 1) {
      if (!shownIds[index]) continue;
      const shown = filterDoors(groups[index].doors, view.filter);
      px += ROW_PX.building + (groups[index].isMultiUnit ? ROW_PX.head : 0);
      for (const door of shown) px += door.people.length ? ROW_PX.people : ROW_PX.alone;
    }
    return px;
  };
  // A chunk's rows as markup, parsed by the browser in one go; its items are then found in order.
  const draw = (c) => {
    if (drawn[c]) return;
    const [from, to] = range(c);
    let markup = "";
    for (let index = from; index < to; index += 1) {
      if (shownIds[index]) markup += buildingMarkup(assignment, groups[index], index, codes);
    }
    chunks[c].innerHTML = markup;
    chunks[c].style.height = "";
    let found = 0;
    for (let index = from; index < to; index += 1) items[index] = shownIds[index] ? chunks[c].children[found++] : null;
    drawn[c] = true;
  };
  // Emptied as tall as it was, so that nothing on screen moves (kept while it holds the focus).
  const undraw = (c, height) => {
    if (!drawn[c] || chunks[c].contains(document.activeElement)) return;
    chunks[c].style.height = `${height}px`;
    chunks[c].textContent = "";
    items.fill(null, ...range(c));
    drawn[c] = false;
  };
  let px = 0;
  chunks.forEach((chunk, c) => {
    chunk.className = "chunk";
    // Drawn at once: the chunks that fill the first screen and the next (a list opens at its top).
    const height = estimate(c);
    if (px < 2 * window.innerHeight) draw(c);
    else chunk.style.height = `${height}px`;
    px += height;
  });
  element.append(...chunks);
  const observer = new IntersectionObserver(
    (entries) => {
      if (!element.isConnected) return; // taken off the screen: what it had drawn stays as it is
      const latest = [...new Map(entries.map((entry) => [entry.target, entry])).values()]; // a chunk's last word
      for (const entry of latest) if (!entry.isIntersecting) undraw(chunks.indexOf(entry.target), entry.boundingClientRect.height);
      for (const entry of latest) if (entry.isIntersecting) draw(chunks.indexOf(entry.target));
    },
    { rootMargin: NEAR },
  );
  for (const chunk of chunks) observer.observe(chunk);
  // Observed anew, for the observer to say again whether it is near: after a chunk was drawn away from
  // the screen (reveal), or kept for the focus that has now left it.
  const recheck = (c) => {
    observer.unobserve(chunks[c]);
    observer.observe(chunks[c]);
  };
  element.addEventListener("focusout", (event) => {
    const c = chunks.indexOf(event.target.closest(".chunk"));
    if (c >= 0) recheck(c);
  });
  // "Nobody home at all N" of every building, by delegation: the button names its building.
  element.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-nobody-home]");
    if (!button) return;
    const group = groups[Number(button.dataset.nobodyHome)];
    nobodyHome(ctx, assignment, group.doors.filter((door) => !isDone(door)), codes, button);
  });
  const showEmpty = () => {
    const any = shownIds.some(Boolean);
    if (!any && !empty.isConnected) element.append(empty);
    if (any) empty.remove();
  };
  showEmpty();
  return {
    element,
    /** `doors` holds the changed doors as they are now: their buildings are redrawn, in place where the rows shown stay the same. */
    redraw(doorIds) {
      const current = new Map(doorIds.filter((id) => place.has(id)).map((id) => [id, doors[place.get(id)]]));
      for (const index of new Set(doorIds.map((id) => groupOf.get(id)).filter((i) => i !== undefined))) {
        const group = groups[index];
        group.doors = group.doors.map((door) => current.get(door.id) || door);
        const c = Math.floor(index / CHUNK);
        const old = items[index];
        const key = shownKey(group);
        if (!drawn[c]) {
          // Not drawn: drawn from the doors as they are when it comes near; its height is estimated anew if its rows changed.
          if (key !== shownIds[index]) {
            shownIds[index] = key;
            chunks[c].style.height = `${estimate(c)}px`;
          }
          continue;
        }
        // The same rows shown (a knock under "All", or at a door already done): change the rows' text,
        // not the building, so that the browser lays out and paints a few words, not a new building.
        if (old && key === shownIds[index]) {
          updateBuilding(assignment, old, group, index, codes, current);
          continue;
        }
        shownIds[index] = key;
        const item = key ? fromMarkup(buildingMarkup(assignment, group, index, codes)) : null;
        if (old && item) old.replaceWith(item);
        else if (old) old.remove();
        else if (item) chunks[c].insertBefore(item, items.slice(index + 1, range(c)[1]).find(Boolean) || null);
        items[index] = item;
      }
      showEmpty();
    },
    reveal(doorId) {
      const index = groupOf.get(doorId);
      if (index === undefined) return null;
      const c = Math.floor(index / CHUNK);
      for (const near of [c - 1, c, c + 1]) {
        if (near < 0 || near >= chunks.length || drawn[near]) continue;
        draw(near);
        recheck(near);
      }
      return element.querySelector(`a.door-row[data-door="${Number(doorId)}"]`);
    },
  };
}

/** The ids of the doors of a building the filter shows, as one string ("" when it shows none). */
function shownKey(group) {
  return filterDoors(group.doors, view.filter).map((door) => door.id).join(",");
}

function fromMarkup(markup) {
  const template = document.createElement("template");
  template.innerHTML = markup;
  return template.content.firstElementChild;
}

/** One building's item as markup (every value escaped); `index` is its place in the walk. */
function buildingMarkup(assignment, group, index, codes) {
  const shown = filterDoors(group.doors, view.filter);
  let head = "";
  if (group.isMultiUnit) {
    head =
      `<div class="building-head"><h2>${escape(buildingAddress(group.doors[0]))}</h2>` +
      `<span class="muted">${escape(t("unitsInBuilding", { n: group.doors.length }))}</span>` +
      nobodyHomeMarkup(group, index) +
      "</div>";
  }
  // Rows as markup: building a thousand rows node by node was the largest part of showing the list.
  const rows = shown.map((door) => doorRow(assignment, door, codes, group.isMultiUnit)).join("");
  return `<li class="building" data-building="${escape(group.key)}">${head}<ul class="doors">${rows}</ul></li>`;
}

/** The building's "Nobody home at all N" button, when more than one of its doors is not done. */
function nobodyHomeMarkup(group, index) {
  const remaining = group.doors.filter((door) => !isDone(door)).length;
  if (remaining < 2) return "";
  return `<button type="button" class="secondary" data-nobody-home="${index}">${escape(t("nobodyHomeAll", { n: remaining }))}</button>`;
}

/** Change a building's rows in place: the changed doors' mark and last result, and its "nobody home" button. */
function updateBuilding(assignment, item, group, index, codes, changed) {
  for (const door of changed.values()) {
    const row = item.querySelector(`a.door-row[data-door="${Number(door.id)}"]`);
    if (!row) continue;
    const done = String(isDone(door));
    if (row.dataset.done !== done) {
      row.dataset.done = done;
      row.querySelector(".door-mark").textContent = door.last_result ? "✓" : "○";
    }
    row.querySelector(".door-last").textContent = lastText(door, codes);
  }
  if (!group.isMultiUnit) return;
  const header = item.querySelector(".building-head");
  header.querySelector("button")?.remove();
  const button = nobodyHomeMarkup(group, index);
  if (button) header.append(fromMarkup(button));
}

/** A door's last result as its row says it. */
function lastText(door, codes) {
  const last = door.last_result;
  const code = last && codes.get(last.result_code);
  return last ? `${code ? localized(code, "label") : last.result_code} · ${formatTime(last.at)}` : t("neverKnocked");
}

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text made safe to put in markup (names and addresses come from imported files). */
function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** One door's row, as markup (every value escaped). */
function doorRow(assignment, door, codes, inBuilding) {
  const last = door.last_result;
  const title = inBuilding && door.unit ? `${door.unit_type || "#"} ${door.unit}`.trim() : door.address;
  const people = door.people.map((p) => `${p.first_name} ${p.last_name}`).join(", ");
  return (
    `<li><a class="door-row" href="#/door/${Number(assignment.id)}/${Number(door.id)}" data-door="${Number(door.id)}" ` +
    `data-done="${Boolean(last)}"><span class="door-mark" aria-hidden="true">${last ? "✓" : "○"}</span>` +
    `<span class="door-address">${escape(title)}</span>` +
    (people ? `<span class="door-people">${escape(people)}</span>` : "") +
    `<span class="door-last">${escape(lastText(door, codes))}</span></a></li>`
  );
}

/** "Nobody home" at every door of a building not done yet, in one tap; Undo takes them all back. */
function nobodyHome(ctx, assignment, doors, codes, button) {
  const notHome = codes.get("not_home") || [...codes.values()].find((code) => !code.is_contact);
  return busy(button, async () => {
    const position = geo.current();
    const knocks = await outbox.recordKnocks(
      doors.map((door) => ({ door: door.id, assignment: assignment.id, person: null, result: notHome.code, answers: {}, notes: "", support_level: null, ...(position || {}) })),
    );
    sync.knockRecorded(knocks.length);
    ctx.doorsChanged(doors.map((door) => door.id));
    toast(t("nobodyHomeSaved", { n: knocks.length }), {
      ms: outbox.UNDO_MS,
      action: {
        label: t("undo"),
        run: async () => {
          await outbox.undoKnocks(knocks.map((k) => k.id));
          await sync.refreshCounts();
          toast(t("undone"));
          ctx.doorsChanged(doors.map((door) => door.id));
        },
      },
    });
  });
}
