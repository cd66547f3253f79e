// geo: the phone's position for quality stamps on knocks and check-ins, when the volunteer allowed it; never required.

const FRESH_MS = 2 * 60 * 1000;
let last = null;
let watching = null;

/** Start following the position (asks for permission the first time); silent when refused or unavailable. */
export function watch() {
  if (watching !== null || !("geolocation" in navigator)) return;
  try {
    watching = navigator.geolocation.watchPosition(
      (position) => {
        last = { coords: position.coords, at: Date.now() };
        for (const listener of listeners) listener(current());
      },
      () => {},
      { enableHighAccuracy: true, maximumAge: 30000, timeout: 60000 },
    );
  } catch {
    watching = null;
  }
}

const listeners = new Set();

export function onPosition(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The position now if the phone gives one within `timeoutMs`, else null (a check-in does not wait longer). */
export function fresh(timeoutMs = 3000) {
  watch();
  if (current()) return Promise.resolve(current());
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stop();
      resolve(current());
    }, timeoutMs);
    const stop = onPosition((position) => {
      clearTimeout(timer);
      stop();
      resolve(position);
    });
  });
}

/** {lat, lng, accuracy_m} from the last two minutes, or null: a knock is never held up waiting for it. */
export function current() {
  if (!last || Date.now() - last.at > FRESH_MS) return null;
  const { latitude, longitude, accuracy } = last.coords;
  return { lat: round(latitude, 6), lng: round(longitude, 6), accuracy_m: round(accuracy, 1) };
}

function round(value, digits) {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
