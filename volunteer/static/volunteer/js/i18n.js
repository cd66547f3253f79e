// i18n: the app's words in English and Spanish, and the organizer's texts in the volunteer's language.

const STRINGS = {
  en: {
    appName: "Canvass",
    loading: "Loading…",
    username: "Username",
    password: "Password",
    logIn: "Log in",
    loggingIn: "Logging in…",
    loginAgain: "Your login has run out. Log in again: your unsent knocks stay on this phone.",
    loginOffline: "You are offline. Logging in needs a connection the first time.",
    wrongLogin: "Wrong username or password.",
    tooManyLogins: "Too many tries. Wait {minutes} min and try again.",
    today: "Today",
    walkList: "Walk list",
    sync: "Sync",
    settings: "Settings",
    shifts: "Shifts",
    noShifts: "No upcoming shifts.",
    placesLeft: "{n} places left",
    full: "Full",
    signUp: "Sign up",
    cancelSignup: "Cancel sign-up",
    signedUp: "Signed up",
    checkIn: "Check in",
    checkOut: "Check out",
    checkedInAt: "Checked in at {time}",
    checkedOutAt: "Checked out at {time}",
    checkedOutWaiting: "Checked out. {n} knocks are still waiting on this phone; they will be sent when you have signal.",
    checkedOutAllSent: "Checked out. All your knocks are sent.",
    myTurfs: "My turfs",
    noAssignments: "You have no turf right now. Your organizer assigns one.",
    doorsCount: "{n} doors",
    downloadTurf: "Download turf",
    downloading: "Downloading…",
    savingDoors: "Saving {n} doors…",
    readyOffline: "Ready offline",
    downloadAgain: "Download again",
    openWalkList: "Open walk list",
    notDownloaded: "Not downloaded yet",
    cachedAt: "As of {time} (offline)",
    offlineAction: "You are offline. Try again when you have signal.",
    unreachable: "Could not reach the server. Your knocks are safe on this phone and will be sent again.",
    remaining: "Remaining",
    done: "Done",
    all: "All",
    nextDoor: "Next door",
    noDoorsLeft: "All doors are done. Thank you!",
    progress: "{done} of {total} doors · {contacts} contacts",
    unitsInBuilding: "{n} units",
    nobodyHomeAll: "Nobody home at all {n}",
    nobodyHomeSaved: "Nobody home saved for {n} doors",
    people: "People",
    nobodyListed: "No one listed at this door.",
    result: "Result",
    lastResult: "Last: {result} {when}",
    neverKnocked: "Not knocked yet",
    talkTo: "Talk to {name}",
    someoneHere: "Someone at this door",
    survey: "Survey",
    support: "Support",
    supportLevels: ["Strong support", "Lean support", "Undecided", "Lean oppose", "Strong oppose"],
    notes: "Note",
    saveContact: "Save conversation",
    saved: "Saved: {result}",
    undo: "Undo",
    undone: "Undone",
    alreadySent: "Already sent: it can no longer be undone. Tell your organizer if it was wrong.",
    back: "Back",
    list: "List",
    map: "Map",
    mapLabel: "Map of the turf's doors",
    you: "You",
    statusSynced: "All synced {time}",
    statusSyncedNever: "All synced",
    statusWaiting: "{n} waiting",
    statusOffline: "Offline · {n} waiting",
    statusOfflineNone: "Offline",
    statusAttention: "{n} need attention",
    statusSyncing: "Syncing…",
    syncNow: "Sync now",
    lastSynced: "Last synced: {time}",
    neverSynced: "Not synced yet",
    needAttention: "Knocks that need attention",
    attentionHelp:
      "The server did not take these knocks. The stored knock stands; tell your organizer if this one matters, then remove it.",
    heldTitle: "Waiting for your organizer",
    heldHelp:
      "These knocks are saved on the server but do not count yet: your organizer looks at knocks made outside your turf or your assignment's time, and approves them or not. Nothing to do on this phone.",
    heldOffList: "a door outside your turf",
    heldOutsideTime: "outside your assignment's time",
    conflict: "Conflict",
    rejected: "Refused",
    conflictReason: "Another knock with the same id is already stored.",
    removeKnock: "Remove from phone",
    waitingKnocks: "{n} knocks waiting to be sent",
    turfEnded: "{turf} was taken off your list by your organizer. Its doors left this phone; your unsent knocks there are still sent.",
    dismiss: "OK",
    language: "Language",
    loggedInAs: "Logged in as {user} ({org})",
    logOut: "Log out",
    logoutRefused:
      "You cannot log out yet: {n} knocks are not sent. Logging out deletes them from this phone. Sync first (you need signal).",
    logoutAttention:
      "You cannot log out yet: {n} knocks need attention. Look at them in Sync, then remove them or tell your organizer.",
    updateReady: "A new version of the app is ready.",
    update: "Update",
    updateAfterDoor: "Finish this door first; the update waits.",
    storagePersisted: "This phone will keep the turf.",
    storageNotPersisted: "The browser may clear this data if the phone runs out of space.",
    error: "Something went wrong: {detail}",
    version: "Version {v}",
    cancel: "Cancel",
    unit: "Unit {unit}",
    doorOf: "Door {n} of {total}",
  },
  es: {
    appName: "Canvass",
    loading: "Cargando…",
    username: "Usuario",
    password: "Contraseña",
    logIn: "Entrar",
    loggingIn: "Entrando…",
    loginAgain: "Tu sesión venció. Entra de nuevo: tus visitas sin enviar se quedan en este teléfono.",
    loginOffline: "Estás sin conexión. La primera vez, entrar necesita conexión.",
    wrongLogin: "Usuario o contraseña incorrectos.",
    tooManyLogins: "Demasiados intentos. Espera {minutes} min y vuelve a intentar.",
    today: "Hoy",
    walkList: "Lista",
    sync: "Sincronizar",
    settings: "Ajustes",
    shifts: "Turnos",
    noShifts: "No hay turnos próximos.",
    placesLeft: "Quedan {n} lugares",
    full: "Lleno",
    signUp: "Inscribirme",
    cancelSignup: "Cancelar inscripción",
    signedUp: "Inscrito",
    checkIn: "Registrar llegada",
    checkOut: "Registrar salida",
    checkedInAt: "Llegada a las {time}",
    checkedOutAt: "Salida a las {time}",
    checkedOutWaiting: "Salida registrada. {n} visitas siguen en este teléfono; se enviarán cuando tengas señal.",
    checkedOutAllSent: "Salida registrada. Todas tus visitas están enviadas.",
    myTurfs: "Mis zonas",
    noAssignments: "No tienes zona ahora. Tu organizador te asigna una.",
    doorsCount: "{n} puertas",
    downloadTurf: "Descargar zona",
    downloading: "Descargando…",
    savingDoors: "Guardando {n} puertas…",
    readyOffline: "Lista sin conexión",
    downloadAgain: "Descargar de nuevo",
    openWalkList: "Abrir lista",
    notDownloaded: "Aún no descargada",
    cachedAt: "Al {time} (sin conexión)",
    offlineAction: "Estás sin conexión. Inténtalo cuando tengas señal.",
    unreachable: "No se pudo llegar al servidor. Tus visitas están a salvo en este teléfono y se enviarán de nuevo.",
    remaining: "Pendientes",
    done: "Hechas",
    all: "Todas",
    nextDoor: "Siguiente puerta",
    noDoorsLeft: "Todas las puertas están hechas. ¡Gracias!",
    progress: "{done} de {total} puertas · {contacts} contactos",
    unitsInBuilding: "{n} unidades",
    nobodyHomeAll: "Nadie en casa en las {n}",
    nobodyHomeSaved: "Nadie en casa guardado en {n} puertas",
    people: "Personas",
    nobodyListed: "No hay nadie en la lista de esta puerta.",
    result: "Resultado",
    lastResult: "Última: {result} {when}",
    neverKnocked: "Sin visitar",
    talkTo: "Hablar con {name}",
    someoneHere: "Alguien en esta puerta",
    survey: "Encuesta",
    support: "Apoyo",
    supportLevels: ["Apoyo fuerte", "Apoyo leve", "Indeciso", "En contra leve", "En contra fuerte"],
    notes: "Nota",
    saveContact: "Guardar conversación",
    saved: "Guardado: {result}",
    undo: "Deshacer",
    undone: "Deshecho",
    alreadySent: "Ya se envió: ya no se puede deshacer. Avisa a tu organizador si estaba mal.",
    back: "Atrás",
    list: "Lista",
    map: "Mapa",
    mapLabel: "Mapa de las puertas de la zona",
    you: "Tú",
    statusSynced: "Todo enviado {time}",
    statusSyncedNever: "Todo enviado",
    statusWaiting: "{n} en espera",
    statusOffline: "Sin conexión · {n} en espera",
    statusOfflineNone: "Sin conexión",
    statusAttention: "{n} requieren atención",
    statusSyncing: "Sincronizando…",
    syncNow: "Sincronizar ahora",
    lastSynced: "Última sincronización: {time}",
    neverSynced: "Aún sin sincronizar",
    needAttention: "Visitas que requieren atención",
    attentionHelp:
      "El servidor no aceptó estas visitas. La visita guardada se mantiene; avisa a tu organizador si esta importa, y luego quítala.",
    heldTitle: "Esperando a tu organizador",
    heldHelp:
      "Estas visitas están guardadas en el servidor pero aún no cuentan: tu organizador revisa las visitas hechas fuera de tu zona o del horario de tu asignación, y las aprueba o no. No hay nada que hacer en este teléfono.",
    heldOffList: "una puerta fuera de tu zona",
    heldOutsideTime: "fuera del horario de tu asignación",
    conflict: "Conflicto",
    rejected: "Rechazada",
    conflictReason: "Ya hay otra visita guardada con el mismo identificador.",
    removeKnock: "Quitar del teléfono",
    waitingKnocks: "{n} visitas esperando envío",
    turfEnded: "Tu organizador quitó {turf} de tu lista. Sus puertas salieron de este teléfono; tus visitas sin enviar se envían igual.",
    dismiss: "Entendido",
    language: "Idioma",
    loggedInAs: "Sesión de {user} ({org})",
    logOut: "Salir",
    logoutRefused:
      "Aún no puedes salir: {n} visitas no están enviadas. Salir las borra de este teléfono. Sincroniza primero (necesitas señal).",
    logoutAttention:
      "Aún no puedes salir: {n} visitas requieren atención. Revísalas en Sincronizar, y quítalas o avisa a tu organizador.",
    updateReady: "Hay una nueva versión de la app.",
    update: "Actualizar",
    updateAfterDoor: "Termina esta puerta primero; la actualización espera.",
    storagePersisted: "Este teléfono guardará la zona.",
    storageNotPersisted: "El navegador podría borrar estos datos si el teléfono se queda sin espacio.",
    error: "Algo salió mal: {detail}",
    version: "Versión {v}",
    cancel: "Cancelar",
    unit: "Unidad {unit}",
    doorOf: "Puerta {n} de {total}",
  },
};

export const LANGUAGES = [
  { code: "en", name: "English" },
  { code: "es", name: "Español" },
];

let current = "en";
let zone; // the organization's time zone: times read as the organizer wrote them

export function setTimeZone(name) {
  zone = name || undefined;
}

export function defaultLanguage(navigatorLanguages) {
  for (const tag of navigatorLanguages || []) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (base in STRINGS) return base;
  }
  return "en";
}

export function setLanguage(code) {
  current = code in STRINGS ? code : "en";
  document.documentElement.lang = current;
}

export function language() {
  return current;
}

/** The app's text for `key`, with {placeholders} filled. */
export function t(key, values = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  if (typeof text !== "string") return text;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? String(values[name]) : `{${name}}`));
}

/** An organizer's text (question, option, result code) in the volunteer's language when one was given. */
export function localized(item, field) {
  if (current === "es") {
    const spanish = item[`${field}_es`]; // the standard result codes come with one from the server
    if (spanish) return spanish;
  }
  return item[field];
}

// One formatter per language and zone: building one per call cost 0.2-0.4 ms a row on a slow phone.
const formatters = new Map();

function formatter(kind) {
  const key = `${kind}|${current}|${zone}`;
  if (!formatters.has(key)) {
    const options =
      kind === "time"
        ? { hour: "numeric", minute: "2-digit", timeZone: zone }
        : { weekday: "short", month: "short", day: "numeric", hour: "numeric", minute: "2-digit", timeZone: zone };
    formatters.set(key, new Intl.DateTimeFormat(current === "es" ? "es-US" : "en-US", options));
  }
  return formatters.get(key);
}

// Times shown to the minute, so one formatting per minute: a walk list of 500 doors done in an
// evening formats a few dozen distinct minutes, not 500 dates (0.1 ms each on a slow phone).
const minuteTexts = new Map();

export function formatTime(iso) {
  if (!iso) return "";
  const ms = Date.parse(iso);
  const key = `${current}|${zone}|${Math.floor(ms / 60000)}`;
  let text = minuteTexts.get(key);
  if (text === undefined) {
    if (minuteTexts.size > 5000) minuteTexts.clear();
    text = formatter("time").format(new Date(ms));
    minuteTexts.set(key, text);
  }
  return text;
}

export function formatDateTime(iso) {
  return iso ? formatter("datetime").format(new Date(iso)) : "";
}
