// outbox: knocks are written to IndexedDB with their UUID before the screen confirms them, then pushed in batches and settled by receipts.

import { api, ApiError, AuthError } from "./api.js";
import { applyReceipt, batches, laterResult, pushItem } from "./model.js";
import { kv, req, tx } from "./store.js";

export const BATCH_SIZE = 500; // the server's SYNC_PUSH_MAX_ITEMS
export const UNDO_MS = 10000; // a knock can be undone this long, and is not sent before (unless forced)

/**
 * Record knocks (one, or a building's worth): each is stored with its UUID and its door's last result
 * is updated, in one transaction. Resolves once IndexedDB has committed: only then may the screen say "saved".
 */
export async function recordKnocks(drafts) {
  const now = Date.now();
  const knocks = drafts.map((draft) => ({
    ...draft,
    id: crypto.randomUUID(),
    recorded_at: new Date(now).toISOString(),
    createdAt: now,
    state: "pending",
  }));
  await tx(["knocks", "doors"], "readwrite", async (s) => {
    for (const knock of knocks) {
      const door = await req(s.doors.get(knock.door));
      if (door) {
        // For the screen to redraw the door without reading it again; not enumerable, so not stored.
        Object.defineProperty(knock, "doorAfter", { value: door, enumerable: false });
        knock.previousResult = door.last_result || null;
        door.last_result = laterResult(door.last_result, { result_code: knock.result, at: knock.recorded_at, mine: true });
        s.doors.put(door);
      }
      s.knocks.put(knock); // with the door's previous result, for undo
    }
  });
  return knocks;
}

/** Take back knocks that have not been sent yet; their doors get their previous result back. */
export async function undoKnocks(ids) {
  return tx(["knocks", "doors"], "readwrite", async (s) => {
    let undone = 0;
    for (const id of [...ids].reverse()) {
      const knock = await req(s.knocks.get(id));
      if (!knock || knock.state !== "pending") continue;
      s.knocks.delete(id);
      const door = await req(s.doors.get(knock.door));
      if (door && door.last_result && door.last_result.at === knock.recorded_at) {
        door.last_result = knock.previousResult || null;
        s.doors.put(door);
      }
      undone += 1;
    }
    return undone;
  });
}

export async function counts() {
  return tx(["knocks"], "readonly", async (s) => {
    const index = s.knocks.index("state");
    const [pending, conflict, rejected] = await Promise.all(
      ["pending", "conflict", "rejected"].map((state) => req(index.count(state))),
    );
    return { pending, attention: conflict + rejected };
  });
}

export async function knocksInState(...states) {
  return tx(["knocks"], "readonly", async (s) => {
    const lists = await Promise.all(states.map((state) => req(s.knocks.index("state").getAll(state))));
    return lists.flat().sort((a, b) => a.createdAt - b.createdAt);
  });
}

/** Sent knocks the server holds for an organizer's review (as the last receipt said). */
export async function heldKnocks() {
  return (await knocksInState("sent")).filter((knock) => knock.review === "held");
}

/** Milliseconds until the oldest pending knock leaves its undo window (0 if one already has), or null if none waits. */
export async function nextReleaseMs(now = Date.now()) {
  const pending = await knocksInState("pending");
  if (!pending.length) return null;
  return Math.max(0, Math.min(...pending.map((knock) => knock.createdAt + UNDO_MS - now)));
}

/** Drop a knock that needs attention from this phone (the volunteer read the reason). */
export async function discardKnock(id) {
  return tx(["knocks"], "readwrite", async (s) => {
    const knock = await req(s.knocks.get(id));
    if (knock && (knock.state === "conflict" || knock.state === "rejected")) s.knocks.delete(id);
  });
}

/**
 * Send what is ready. `force` sends knocks still inside the undo window too (Sync now, check-out, log out).
 * Resolves with {sent, attention}; throws NetworkError/ApiError when a batch got no 200 (its knocks stay pending,
 * with the same ids: a retry is harmless, the server answers "duplicate" for what it had stored).
 */
export async function push({ force = false } = {}) {
  const pending = await knocksInState("pending");
  const deviceId = await kv.get("deviceId");
  let sent = 0;
  let attention = 0;
  for (const batch of batches(pending, { now: Date.now(), holdMs: UNDO_MS, force, size: BATCH_SIZE })) {
    const result = await pushBatch(deviceId, batch);
    sent += result.sent;
    attention += result.attention;
  }
  return { sent, attention };
}

async function pushBatch(deviceId, batch) {
  let answer;
  try {
    answer = await api.push({ device_id: deviceId, sent_at: new Date().toISOString(), attempts: batch.map(pushItem) });
  } catch (error) {
    if (error instanceof ApiError && !(error instanceof AuthError) && error.status === 413 && batch.length > 1) {
      const half = Math.ceil(batch.length / 2);
      const first = await pushBatch(deviceId, batch.slice(0, half));
      const second = await pushBatch(deviceId, batch.slice(half));
      return { sent: first.sent + second.sent, attention: first.attention + second.attention };
    }
    throw error;
  }
  const byId = new Map(batch.map((knock) => [knock.id, knock]));
  let sent = 0;
  let attention = 0;
  await tx(["knocks"], "readwrite", async (s) => {
    const receipts = (answer.results || []).filter((receipt) => byId.has(receipt.id));
    // Re-read them all at once (one by one cost a second for 500): a knock may have been discarded since.
    const stored = await Promise.all(receipts.map((receipt) => req(s.knocks.get(receipt.id))));
    for (const [i, receipt] of receipts.entries()) {
      if (!stored[i]) continue;
      const settled = applyReceipt(stored[i], receipt);
      if (settled.state === "sent") sent += 1;
      else if (settled.state !== "pending") attention += 1;
      s.knocks.put(settled);
    }
  });
  return { sent, attention };
}

/** Forget sent knocks older than two days: the server has them, and the phone only needs today's. */
export async function pruneSent(now = Date.now()) {
  const cutoff = now - 2 * 24 * 3600 * 1000;
  return tx(["knocks"], "readwrite", async (s) => {
    const sent = await req(s.knocks.index("state").getAll("sent"));
    for (const knock of sent) if (knock.createdAt < cutoff) s.knocks.delete(knock.id);
  });
}
