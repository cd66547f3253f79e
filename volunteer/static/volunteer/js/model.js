// model: pure functions over plain data (walk-list grouping, progress, sync status, receipts, batches); no DOM, no storage.

/** Doors in walk order grouped by building: consecutive doors with the same building key are one building. */
export function groupByBuilding(doors) {
  const groups = [];
  for (const door of doors) {
    const last = groups[groups.length - 1];
    if (last && door.building_key && last.key === door.building_key) {
      last.doors.push(door);
    } else {
      groups.push({ key: door.building_key || `door:${door.id}`, doors: [door] });
    }
  }
  for (const group of groups) {
    group.doors.sort(compareUnits);
    group.isMultiUnit = group.doors.length > 1;
  }
  return groups;
}

/** Units in a building in a natural order: 2 before 10, then letters. */
const unitOrder = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

export function compareUnits(a, b) {
  return unitOrder.compare(a.unit || "", b.unit || "");
}

/** The street address of a building (its first door's, without the unit). */
export function buildingAddress(door) {
  return [door.number + (door.number_suffix ? ` ${door.number_suffix}` : ""), door.pre_dir, door.street_name, door.street_type, door.post_dir]
    .filter(Boolean)
    .join(" ");
}

export function isDone(door) {
  return Boolean(door.last_result);
}

/** Doors done of total, and contacts (doors whose last result was someone at the door). */
export function progress(doors, resultCodes) {
  const contactCodes = new Set(resultCodes.filter((code) => code.is_contact).map((code) => code.code));
  let done = 0;
  let contacts = 0;
  for (const door of doors) {
    if (!door.last_result) continue;
    done += 1;
    if (contactCodes.has(door.last_result.result_code)) contacts += 1;
  }
  return { done, total: doors.length, contacts };
}

/** The first door after `afterId` in walk order that is not done, wrapping round; null when all are done. */
export function nextDoor(doors, afterId = null) {
  const start = afterId === null ? 0 : doors.findIndex((door) => door.id === afterId) + 1;
  for (let i = 0; i < doors.length; i += 1) {
    const door = doors[(start + i) % doors.length];
    if (!isDone(door)) return door;
  }
  return null;
}

export function filterDoors(doors, filter) {
  if (filter === "remaining") return doors.filter((door) => !isDone(door));
  if (filter === "done") return doors.filter(isDone);
  return doors;
}

/** The later of two results ({result_code, at}); on a tie, the candidate (the newer news). */
export function laterResult(current, candidate) {
  if (!candidate) return current || null;
  if (!current) return candidate;
  return Date.parse(candidate.at) >= Date.parse(current.at) ? candidate : current;
}

/**
 * What the status line says, from counts and the connection:
 * attention (conflict or rejected knocks) first, then offline, then waiting, then all synced.
 */
export function syncStatus({ pending, attention, online, syncing, lastSyncedAt }) {
  if (attention > 0) return { state: "attention", count: attention, pending };
  if (!online) return { state: "offline", count: pending };
  if (syncing && pending > 0) return { state: "syncing", count: pending };
  if (pending > 0) return { state: "waiting", count: pending };
  return { state: "synced", count: 0, at: lastSyncedAt || null };
}

/** Knocks to send now: pending ones older than the undo window (all of them when forced), oldest first, in batches. */
export function batches(knocks, { now, holdMs, force, size }) {
  const ready = knocks
    .filter((knock) => knock.state === "pending" && (force || now - knock.createdAt >= holdMs))
    .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  const out = [];
  for (let i = 0; i < ready.length; i += size) out.push(ready.slice(i, i + size));
  return out;
}

/** How a push receipt changes a knock: accepted and duplicate are sent; conflict and rejected need a person. */
export function applyReceipt(knock, receipt) {
  if (receipt.status === "accepted" || receipt.status === "duplicate") {
    // review: "held" while an organizer has to look at it (docs/sync-protocol.md, "Held knocks").
    return { ...knock, state: "sent", sentAt: Date.now(), flags: receipt.flags || [], review: receipt.review || null, heldReason: receipt.held_reason || null };
  }
  if (receipt.status === "conflict" || receipt.status === "rejected") {
    return { ...knock, state: receipt.status, errors: receipt.errors || {} };
  }
  return knock; // unknown status: keep it pending, it is resent
}

/** A receipt's errors as readable lines: {"door": "No such door."} → "door: No such door." */
export function errorLines(errors, prefix = "") {
  const lines = [];
  for (const [field, value] of Object.entries(errors || {})) {
    const name = prefix ? `${prefix}.${field}` : field;
    if (value && typeof value === "object" && !Array.isArray(value)) lines.push(...errorLines(value, name));
    else lines.push(`${name}: ${Array.isArray(value) ? value.join(" ") : value}`);
  }
  return lines;
}

/** Retry delay after `failures` failed rounds: doubling from 5 s to 5 min, with ±20% jitter (never in step with other phones). */
export function backoffMs(failures, random = Math.random) {
  const base = Math.min(300000, 5000 * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** The sync timer: the period ± a tenth, at random (docs/sync-protocol.md, rule 6). */
export function jittered(periodMs, random = Math.random) {
  return Math.round(periodMs * (0.9 + 0.2 * random()));
}

/** A push item from a stored knock: the documented fields only, never the phone's own bookkeeping. */
export function pushItem(knock) {
  const item = {
    id: knock.id,
    door: knock.door,
    assignment: knock.assignment,
    person: knock.person ?? null,
    result: knock.result,
    support_level: knock.support_level ?? null,
    answers: knock.answers || {},
    notes: knock.notes || "",
    recorded_at: knock.recorded_at,
  };
  if (typeof knock.lat === "number" && typeof knock.lng === "number") {
    item.lat = knock.lat;
    item.lng = knock.lng;
    if (typeof knock.accuracy_m === "number") item.accuracy_m = knock.accuracy_m;
  }
  return item;
}
