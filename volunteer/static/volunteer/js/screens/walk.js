// screens/walk: the turf's doors in walk order, grouped by building; filters, progress, next door, the map, and "nobody home" for a building.

import { formatTime, localized, t } from "../i18n.js";
import { buildingAddress, filterDoors, groupByBuilding, isDone, nextDoor, progress } from "../model.js";
import * as outbox from "../outbox.js";
import * as geo from "../geo.js";
import * as sync from "../sync.js";
import { busy, h, toast } from "../ui.js";

const view = { filter: "remaining", mode: "list" };

export async function render(ctx, { assignmentId }) {
  const walk = await sync.walkFromPhone(assignmentId);
  if (!walk) {
    ctx.navigate("#/today");
    return h("p", {}, t("loading"));
  }
  geo.watch();
  await ctx.rememberWalk(walk.assignment.id);
  const { assignment, doors } = walk;
  const codes = new Map(assignment.result_codes.map((code) => [code.code, code]));
  const stats = progress(doors, assignment.result_codes);
  const shown = filterDoors(doors, view.filter);

  const pick = (key) => (name) => {
    view[key] = name;
    ctx.rerender();
  };
  const filters = segmented(t("walkList"), ["remaining", "done", "all"], view.filter, pick("filter"));
  const modes = segmented(`${t("list")} / ${t("map")}`, ["list", "map"], view.mode, pick("mode"));

  let body;
  if (view.mode === "map") {
    const { turfMap } = await import("../map.js");
    body = turfMap({ polygon: assignment.turf.polygon, doors, onDoor: (door) => ctx.navigate(`#/door/${assignment.id}/${door.id}`) });
  } else {
    body = doorList(ctx, assignment, shown, codes);
  }

  const next = nextDoor(doors, ctx.lastDoor(assignment.id));
  const nextButton = h(
    "button.primary.wide",
    { type: "button", disabled: !next, onclick: () => next && ctx.navigate(`#/door/${assignment.id}/${next.id}`) },
    next ? `${t("nextDoor")}: ${next.address}` : t("noDoorsLeft"),
  );
  if (ctx.backFromDoor() && next && view.mode === "list") {
    // Back from a door: bring the next door into view (after the router has scrolled to the top).
    requestAnimationFrame(() => document.querySelector(`a.door-row[data-door="${next.id}"]`)?.scrollIntoView({ block: "center" }));
  }
  return h(
    "section.screen-walk",
    {},
    h("h1", {}, assignment.turf.name),
    h(
      "p.progress",
      { "data-testid": "progress" },
      t("progress", stats),
      h("progress", { max: String(stats.total || 1), value: String(stats.done), "aria-hidden": "true" }),
    ),
    h("div.toolbar", {}, filters, modes),
    body,
    h("div.bottom-actions", {}, nextButton),
  );
}

/** A row of toggle buttons, the chosen one pressed (aria-pressed, and underlined: not by colour alone). */
function segmented(label, names, chosen, onPick) {
  return h(
    "div.segmented",
    { role: "group", "aria-label": label },
    names.map((name) => h("button", { type: "button", "aria-pressed": String(chosen === name), onclick: () => onPick(name) }, t(name))),
  );
}

function doorList(ctx, assignment, doors, codes) {
  const list = h("ol.buildings", { "aria-label": t("walkList") });
  if (!doors.length) list.append(h("li.empty", {}, view.filter === "remaining" ? t("noDoorsLeft") : "—"));
  for (const group of groupByBuilding(doors)) {
    const first = group.doors[0];
    const item = h("li.building", { "data-building": group.key });
    if (group.isMultiUnit) {
      const remaining = group.doors.filter((door) => !isDone(door));
      const header = h("div.building-head", {}, h("h2", {}, buildingAddress(first)), h("span.muted", {}, t("unitsInBuilding", { n: group.doors.length })));
      if (remaining.length > 1) header.append(nobodyHomeButton(ctx, assignment, remaining, codes));
      item.append(header);
    }
    const doorsList = h("ul.doors");
    for (const door of group.doors) doorsList.append(doorRow(assignment, door, codes, group.isMultiUnit));
    item.append(doorsList);
    list.append(item);
  }
  return list;
}

function doorRow(assignment, door, codes, inBuilding) {
  const last = door.last_result;
  const code = last && codes.get(last.result_code);
  const title = inBuilding && door.unit ? `${door.unit_type || "#"} ${door.unit}`.trim() : door.address;
  return h(
    "li",
    {},
    h(
      "a.door-row",
      { href: `#/door/${assignment.id}/${door.id}`, "data-door": door.id, "data-done": String(Boolean(last)) },
      h("span.door-mark", { "aria-hidden": "true" }, last ? "✓" : "○"),
      h(
        "span.door-text",
        {},
        h("span.door-address", {}, title),
        door.people.length ? h("span.door-people", {}, door.people.map((p) => `${p.first_name} ${p.last_name}`).join(", ")) : null,
        h("span.door-last", {}, last ? `${code ? localized(code, "label") : last.result_code} · ${formatTime(last.at)}` : t("neverKnocked")),
      ),
    ),
  );
}

function nobodyHomeButton(ctx, assignment, doors, codes) {
  const notHome = codes.get("not_home") || [...codes.values()].find((code) => !code.is_contact);
  const button = h("button.secondary", { type: "button" }, t("nobodyHomeAll", { n: doors.length }));
  button.addEventListener("click", () =>
    busy(button, async () => {
      const position = geo.current();
      const knocks = await outbox.recordKnocks(
        doors.map((door) => ({ door: door.id, assignment: assignment.id, person: null, result: notHome.code, answers: {}, notes: "", support_level: null, ...(position || {}) })),
      );
      await sync.knockRecorded();
      ctx.rerender();
      toast(t("nobodyHomeSaved", { n: knocks.length }), {
        ms: outbox.UNDO_MS,
        action: {
          label: t("undo"),
          run: async () => {
            await outbox.undoKnocks(knocks.map((k) => k.id));
            await sync.refreshCounts();
            toast(t("undone"));
            ctx.rerender();
          },
        },
      });
    }),
  );
  return button;
}
