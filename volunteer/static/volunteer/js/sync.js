// sync: when to push and pull (start, network back, app visible, a jittered timer, "Sync now"), turf downloads, and applying pulls.

import { api, AuthError, NetworkError } from "./api.js";
import { backoffMs, jittered, laterResult, syncStatus } from "./model.js";
import * as outbox from "./outbox.js";
import { all, get, kv, put, req, tx } from "./store.js";

const PERIOD_MS = 30000;
const MAX_PAGES = 100;

const listeners = new Set();
let state = { pending: 0, attention: 0, online: navigator.onLine, syncing: false, lastSyncedAt: null };
let running = null;
let timer = null;
let failures = 0;
let started = false;

export function onStatus(listener) {
  listeners.add(listener);
  listener(syncStatus(state), state);
  return () => listeners.delete(listener);
}

function emit() {
  const status = syncStatus(state);
  for (const listener of listeners) listener(status, state);
}

export async function refreshCounts() {
  Object.assign(state, await outbox.counts(), { online: navigator.onLine });
  emit();
}

/** Start the triggers once per page load (after login). */
export async function start() {
  state.lastSyncedAt = (await kv.get("lastSyncedAt")) || null;
  await refreshCounts();
  if (!started) {
    started = true;
    window.addEventListener("online", () => {
      state.online = true;
      emit();
      syncNow();
    });
    window.addEventListener("offline", () => {
      state.online = false;
      emit();
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") syncNow();
    });
  }
  outbox.pruneSent().catch(() => {});
  syncNow();
}

export function stop() {
  clearTimeout(timer);
  timer = null;
}

function schedule(delayMs) {
  clearTimeout(timer);
  timer = setTimeout(() => syncNow(), delayMs);
}

/** The next round: after the period (± a tenth), or sooner when a held knock's undo window ends before. */
async function scheduleNext() {
  const release = await outbox.nextReleaseMs();
  const period = jittered(PERIOD_MS);
  schedule(release === null ? period : Math.min(period, release + 500));
}

/** `count` knocks were just recorded: count them (without reading the outbox: counting a thousand
 * waiting knocks in IndexedDB would delay the screen), and send them once their undo window has passed. */
export function knockRecorded(count = 1) {
  state.pending += count;
  emit();
  schedule(outbox.UNDO_MS + 500);
}

/**
 * Push, then pull. One round at a time; a call during a round waits for it.
 * `force` also sends knocks still inside their undo window. Resolves with {ok, error?}.
 */
export function syncNow({ force = false } = {}) {
  if (running) return running.then(() => (force ? syncNow({ force }) : running));
  running = round(force).finally(() => {
    running = null;
  });
  return running;
}

async function round(force) {
  if (!(await kv.get("token"))) return { ok: false };
  if (!navigator.onLine) {
    // The counts are kept up to date by the knocks themselves: counting the outbox here would make
    // a knock being saved wait for it (a read of a thousand waiting knocks every period).
    state.online = false;
    emit();
    schedule(jittered(PERIOD_MS)); // the "online" event starts a round as soon as the network is back
    return { ok: false, error: new NetworkError("offline") };
  }
  state.syncing = true;
  emit();
  try {
    await outbox.push({ force });
    await pull();
    failures = 0;
    state.online = true;
    const counts = await outbox.counts();
    if (counts.pending === 0) {
      state.lastSyncedAt = new Date().toISOString();
      await kv.set("lastSyncedAt", state.lastSyncedAt);
    }
    await scheduleNext();
    return { ok: true };
  } catch (error) {
    if (error instanceof AuthError) return { ok: false, error };
    failures += 1;
    if (error instanceof NetworkError) state.online = navigator.onLine && failures < 2;
    schedule(backoffMs(failures));
    return { ok: false, error };
  } finally {
    state.syncing = false;
    await refreshCounts();
  }
}

// --- Turfs on the phone ---------------------------------------------------------

/** Download an assignment's walk list and keep it for offline use; `onProgress(phase, done, total)`. */
export async function downloadAssignment(id, onProgress = () => {}) {
  const walk = await api.walkList(id, (received, total) => onProgress("download", received, total));
  onProgress("save", 0, walk.doors.length);
  let adopted = false;
  await tx(["assignments", "doors", "knocks", "kv"], "readwrite", async (s) => {
    // The walk list's cursor, on a phone with no cursor and no other turf: incremental pulls from
    // here, no snapshot (docs/sync-protocol.md, "The walk list's cursor"). Otherwise the phone's own.
    const others = (await req(s.assignments.getAllKeys())).filter((key) => key !== walk.assignment.id);
    if (walk.cursor && !others.length && !(await req(s.kv.get("cursor")))) {
      s.kv.put(walk.cursor, "cursor");
      adopted = true;
    }
    s.assignments.put({
      id: walk.assignment.id,
      assignment: walk.assignment,
      turf: walk.turf,
      campaign: walk.campaign,
      script: walk.script,
      result_codes: walk.result_codes,
      doorIds: walk.doors.map((door) => door.id),
      downloadedAt: new Date().toISOString(),
    });
    const mine = await req(s.knocks.getAll());
    const myLatest = new Map();
    for (const knock of mine) {
      myLatest.set(knock.door, laterResult(myLatest.get(knock.door), { result_code: knock.result, at: knock.recorded_at, mine: true }));
    }
    for (const door of walk.doors) {
      const stored = await req(s.doors.get(door.id));
      const last = laterResult(laterResult(stored && stored.last_result, door.last_result), myLatest.get(door.id));
      s.doors.put({ ...door, last_result: last });
    }
  });
  onProgress("sync", 0, 0);
  if (!adopted && !(await kv.get("cursor"))) {
    try {
      await pull();
    } catch (error) {
      if (error instanceof AuthError) throw error; // the walk list is saved; the cursor comes with the next sync
    }
  }
  return walk;
}

export async function downloadedAssignments() {
  return all("assignments");
}

/** An assignment and its doors in walk order, from this phone. */
export async function walkFromPhone(id) {
  // Both reads asked at once, in one transaction. One read of the doors store beats a thousand gets
  // (the store holds only downloaded turfs).
  const [assignment, doors] = await tx(["assignments", "doors"], "readonly", (s) =>
    Promise.all([req(s.assignments.get(Number(id))), req(s.doors.getAll())]),
  );
  if (!assignment) return null;
  const byId = new Map(doors.map((door) => [door.id, door]));
  return { assignment, doors: assignment.doorIds.map((doorId) => byId.get(doorId)).filter(Boolean) };
}

/** One door of an assignment from this phone, with its place in the walk order: {assignment, door, index}. */
export async function doorFromPhone(assignmentId, doorId) {
  const assignment = await get("assignments", Number(assignmentId));
  const index = assignment ? assignment.doorIds.indexOf(Number(doorId)) : -1;
  if (index < 0) return { assignment, door: null, index };
  return { assignment, door: await get("doors", Number(doorId)), index };
}

// --- Pull ---------------------------------------------------------------------------

/** Pull every waiting page and apply it (docs/sync-protocol.md, "How the phone applies a page"). */
export async function pull() {
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const held = (await all("assignments")).map((a) => a.id);
    if (held.length === 0 && !(await kv.get("cursor"))) return;
    let answer;
    try {
      answer = await api.pull(await kv.get("cursor"), held);
    } catch (error) {
      if (error.status === 400 && error.errors && error.errors.cursor) {
        await kv.del("cursor"); // a cursor from a reset server: start over with a snapshot
        continue;
      }
      throw error;
    }
    await applyPull(answer);
    if (!answer.has_more) return;
  }
}

export async function applyPull(answer) {
  const ended = [];
  const changed = new Set();
  await tx(["assignments", "doors", "kv"], "readwrite", async (s) => {
    const local = new Map((await req(s.assignments.getAll())).map((a) => [a.id, a]));
    const gone = new Set(answer.tombstones.assignments || []);
    if (answer.reset) {
      // A snapshot lists every current assignment on its first page: any other one held here has ended.
      const current = new Set(answer.assignments.map((a) => a.id));
      for (const id of local.keys()) if (!current.has(id)) gone.add(id);
    }
    for (const item of answer.assignments) {
      const held = local.get(item.id);
      if (!held) continue; // not downloaded: Today offers it
      held.doorIds = item.doors;
      held.assignment = { ...held.assignment, starts_at: item.starts_at, ends_at: item.ends_at };
      s.assignments.put(held);
    }
    for (const id of gone) {
      const held = local.get(id);
      if (!held) continue;
      ended.push({ id, turf: held.turf.name });
      s.assignments.delete(id);
      local.delete(id);
    }
    const wanted = new Set();
    for (const a of local.values()) for (const doorId of a.doorIds) wanted.add(doorId);
    for (const door of answer.doors) {
      if (!wanted.has(door.id)) continue;
      const stored = await req(s.doors.get(door.id));
      s.doors.put({ ...(stored || {}), ...door, last_result: stored ? stored.last_result : null });
      changed.add(door.id);
    }
    for (const attempt of answer.attempts) {
      const door = await req(s.doors.get(attempt.door));
      if (!door) continue;
      const last = laterResult(door.last_result, { result_code: attempt.result, at: attempt.corrected_at });
      if (last !== door.last_result) {
        door.last_result = last;
        s.doors.put(door);
        changed.add(door.id);
      }
    }
    const droppedDoors = new Set(answer.tombstones.doors || []);
    const droppedPeople = new Set(answer.tombstones.people || []);
    for (const door of await req(s.doors.getAll())) {
      if (!wanted.has(door.id) || droppedDoors.has(door.id)) {
        s.doors.delete(door.id); // its people leave the phone with it
      } else if (droppedPeople.size && door.people.some((p) => droppedPeople.has(p.id))) {
        door.people = door.people.filter((p) => !droppedPeople.has(p.id));
        s.doors.put(door);
        changed.add(door.id);
      }
    }
    s.kv.put(answer.cursor, "cursor");
    if (ended.length) {
      const notices = (await req(s.kv.get("notices"))) || [];
      s.kv.put([...notices, ...ended], "notices");
    }
  });
  if (ended.length) for (const listener of endedListeners) listener(ended);
  else if (changed.size) for (const listener of doorListeners) listener([...changed]);
}

const doorListeners = new Set();

/** Called with door ids whose data or last result a pull changed (other canvassers' knocks). */
export function onDoorsChanged(listener) {
  doorListeners.add(listener);
}

const endedListeners = new Set();

/** Called with [{id, turf}] when assignments leave the phone because the organizer ended them. */
export function onAssignmentsEnded(listener) {
  endedListeners.add(listener);
}

export async function takeNotices() {
  const notices = (await kv.get("notices")) || [];
  return notices;
}

export async function dismissNotices() {
  await put("kv", [], "notices");
}
