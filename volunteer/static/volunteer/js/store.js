// store: IndexedDB on this phone (settings, the downloaded turfs and their people, the knocks), as promises.

const DB_NAME = "fieldops";
const DB_VERSION = 1;

// kv: login, device id, language, pull cursor, notices (out-of-line keys).
// assignments: a downloaded turf (script, result codes, door ids in walk order).
// doors: a door with its people and last result; shared by the assignments that list it.
// knocks: every knock made on this phone, by its UUID; `state` is pending, sent, conflict or rejected.
export const STORES = ["kv", "assignments", "doors", "knocks"];

let dbPromise = null;

function promisify(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export function open() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        db.createObjectStore("kv");
        db.createObjectStore("assignments", { keyPath: "id" });
        db.createObjectStore("doors", { keyPath: "id" });
        const knocks = db.createObjectStore("knocks", { keyPath: "id" });
        knocks.createIndex("state", "state");
        knocks.createIndex("door", "door");
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error("The app is open in another tab with an older version; close it."));
    });
  }
  return dbPromise;
}

/** Run `work(stores)` in one transaction over `names`; resolves with its result once the transaction is durable. */
export async function tx(names, mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(names, mode);
    const stores = Object.fromEntries(names.map((name) => [name, transaction.objectStore(name)]));
    let result;
    transaction.oncomplete = () => resolve(result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error || new Error("Transaction aborted"));
    Promise.resolve(work(stores)).then(
      (value) => {
        result = value;
      },
      (error) => {
        try {
          transaction.abort();
        } catch {
          // already finished
        }
        reject(error);
      },
    );
  });
}

export const req = promisify;

export async function get(store, key) {
  return tx([store], "readonly", (s) => req(s[store].get(key)));
}

export async function all(store) {
  return tx([store], "readonly", (s) => req(s[store].getAll()));
}

export async function getMany(store, keys) {
  return tx([store], "readonly", (s) => Promise.all(keys.map((key) => req(s[store].get(key)))));
}

export async function put(store, value, key) {
  return tx([store], "readwrite", (s) => req(key === undefined ? s[store].put(value) : s[store].put(value, key)));
}

export async function del(store, key) {
  return tx([store], "readwrite", (s) => req(s[store].delete(key)));
}

export const kv = {
  get: (key) => get("kv", key),
  set: (key, value) => put("kv", value, key),
  del: (key) => del("kv", key),
};

/** Forget everything downloaded and the login, keeping the device id and the language (log out). */
export async function clearAccount() {
  await tx(STORES, "readwrite", async (s) => {
    const keep = {
      deviceId: await req(s.kv.get("deviceId")),
      lang: await req(s.kv.get("lang")),
    };
    await Promise.all(STORES.map((name) => req(s[name].clear())));
    for (const [key, value] of Object.entries(keep)) if (value !== undefined) await req(s.kv.put(value, key));
  });
}
