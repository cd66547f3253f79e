/* The campaign's turf map in the admin (canvass/turfs/admin_map.py, docs/turfs.md "The turf map").
 *
 * Leaflet and Leaflet.draw come from django-leaflet's static files. No inline script: the URLs,
 * the tile source and the right to edit are data- attributes of #fo-turf-map-app, the layers a
 * JSON endpoint. Layers need no tiles: districts, turfs (coloured by completion) and doors
 * (knocked or not) are drawn from the data alone; tiles are added when a source is configured.
 *
 * Tools: draw a turf (the door count follows every vertex), reshape one (drag its vertices; the
 * count follows), split one by a line, merge two or more. Every change is a POST to the server,
 * which writes through canvass/turfs/services.py and answers with a message; then the layers reload.
 */
(function () {
  "use strict";

  const app = document.getElementById("fo-turf-map-app");
  if (!app || typeof L === "undefined") return;
  const data = app.dataset;
  const canEdit = data.canEdit === "1";
  const statusEl = document.getElementById("fo-map-status");
  const formEl = document.getElementById("fo-map-form");
  const nameEl = document.getElementById("fo-map-name");
  const saveEl = document.getElementById("fo-map-save");
  const cancelEl = app.querySelector("[data-tool=cancel]");
  const csrf = (app.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";

  const map = L.map("fo-turf-map", { preferCanvas: true, zoomSnap: 0.25 });
  document.getElementById("fo-turf-map").foMap = map; // for the browser tests
  // Doors on their own canvas above the turfs, which lets clicks through to the turfs below.
  map.createPane("fo-doors");
  map.getPane("fo-doors").classList.add("fo-doors-pane");
  const doorsRenderer = L.canvas({ padding: 0.5, pane: "fo-doors" });
  if (data.tilesUrl) {
    L.tileLayer(data.tilesUrl, { attribution: data.tilesAttribution || "", maxZoom: 19 }).addTo(map);
  }
  const districtsLayer = L.geoJSON(null, {
    style: { color: "#444", weight: 2, dashArray: "6 4", fill: false },
    onEachFeature: (f, layer) => layer.bindTooltip(f.properties.name, { sticky: true }),
  }).addTo(map);
  const labelsLayer = L.layerGroup();
  const turfsLayer = L.geoJSON(null, { style: turfStyle, onEachFeature: bindTurf }).addTo(map);
  labelsLayer.addTo(map);
  const LABEL_ZOOM = 15;
  const showLabels = () =>
    document.getElementById("fo-turf-map").classList.toggle("fo-labels-on", map.getZoom() >= LABEL_ZOOM);
  map.on("zoomend", showLabels);
  const doorsLayer = L.layerGroup().addTo(map);
  L.control.layers(null, { Districts: districtsLayer, Turfs: turfsLayer, Doors: doorsLayer }).addTo(map);
  L.control.scale({ imperial: true }).addTo(map);

  let tool = null; // "draw" | "reshape" | "split" | "merge" | null
  let handler = null; // the Leaflet.draw handler running
  let pending = null; // {kind, body} waiting for Save
  let selected = []; // turf layers chosen (merge; reshape/split: one)
  let countTimer = null;
  let countSeq = 0;

  function say(text, isError) {
    statusEl.textContent = text;
    statusEl.classList.toggle("fo-error", Boolean(isError));
  }

  function completionColour(c) {
    // red (0%) → yellow (50%) → green (100%)
    const stops = [
      [0, [215, 48, 39]],
      [0.5, [254, 224, 139]],
      [1, [26, 152, 80]],
    ];
    const x = Math.max(0, Math.min(1, Number(c) || 0));
    const [a, b] = x <= 0.5 ? [stops[0], stops[1]] : [stops[1], stops[2]];
    const t = (x - a[0]) / (b[0] - a[0]);
    const rgb = a[1].map((v, i) => Math.round(v + (b[1][i] - v) * t));
    return `rgb(${rgb.join(",")})`;
  }

  function turfStyle(feature) {
    return {
      color: "#1f3b57",
      weight: 2,
      fillColor: completionColour(feature.properties.completion),
      fillOpacity: 0.35,
    };
  }

  function bindTurf(feature, layer) {
    const p = feature.properties;
    const title = p.number != null ? `${p.number} · ${p.name}` : p.name;
    layer.bindTooltip(
      `${title}: ${p.door_count.toLocaleString()} doors, ${p.knocked.toLocaleString()} knocked ` +
        `(${Math.round(100 * p.completion)}%)`,
      { sticky: true },
    );
    // The turf's short number at its centre, shown only when zoomed in enough for the
    // labels not to collide (LABEL_ZOOM; CSS hides them below it): 257 full names overlapped.
    if (p.number != null) {
      const centre = layer.getBounds().getCenter();
      labelsLayer.addLayer(
        L.marker(centre, {
          interactive: false,
          keyboard: false,
          icon: L.divIcon({ className: "fo-turf-label", html: `<span>${Number(p.number)}</span>`, iconSize: null }),
        }),
      );
    }
    layer.on("click", (event) => {
      L.DomEvent.stopPropagation(event);
      onTurfClick(layer);
    });
  }

  function highlight(layer, on) {
    layer.setStyle(on ? { color: "#0b61d6", weight: 5 } : { color: "#1f3b57", weight: 2 });
  }

  // ------------------------------------------------------------------ layers

  async function loadLayers(fit) {
    const response = await fetch(data.layersUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) {
      say(`The map's layers could not be loaded (${response.status}).`, true);
      return;
    }
    const layers = await response.json();
    districtsLayer.clearLayers().addData(layers.districts);
    labelsLayer.clearLayers();
    turfsLayer.clearLayers().addData(layers.turfs);
    doorsLayer.clearLayers();
    const bounds = L.latLngBounds([]);
    for (const [id, lat, lng, knocked, turf] of layers.doors) {
      const marker = L.circleMarker([lat, lng], {
        renderer: doorsRenderer,
        radius: 3,
        weight: 1,
        color: knocked ? "#1b5e20" : "#333",
        fillColor: knocked ? "#2e7d32" : "#ffffff",
        fillOpacity: 1,
        interactive: false,
      });
      marker.foDoor = { id, knocked, turf };
      doorsLayer.addLayer(marker);
      bounds.extend([lat, lng]);
    }
    if (fit) {
      // The doors and the turfs: every turf in view, even one whose doors are not located.
      const all = L.latLngBounds([]);
      for (const part of [bounds, turfsLayer.getBounds()]) if (part.isValid()) all.extend(part);
      if (all.isValid()) map.fitBounds(all.pad(0.05));
      else if (districtsLayer.getBounds().isValid()) map.fitBounds(districtsLayer.getBounds());
      else map.setView([34.05, -118.25], 11);
    }
    showLabels();
    app.dataset.doors = String(layers.doors.length);
    app.dataset.turfs = String(layers.turfs.features.length);
    app.dataset.loaded = String(Number(app.dataset.loaded || 0) + 1);
  }

  // ------------------------------------------------------------------ server calls

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
      body: JSON.stringify(body),
    });
    let payload = {};
    try {
      payload = await response.json();
    } catch (e) {
      payload = { detail: `The server answered ${response.status}.` };
    }
    return { ok: response.ok, status: response.status, payload };
  }

  function countSoon(polygon, turfId) {
    clearTimeout(countTimer);
    countTimer = setTimeout(async () => {
      const seq = ++countSeq;
      const body = { polygon };
      if (turfId) body.turf = turfId;
      const { ok, payload } = await post(data.countUrl, body);
      if (seq !== countSeq || !tool) return; // a newer shape, or the tool was left
      if (!ok) {
        say(payload.detail || "This shape cannot be counted.", true);
        return;
      }
      const extra = payload.in_turfs ? ` (${payload.in_turfs} more inside stay in other turfs)` : "";
      say(`${payload.free} doors${extra}.`);
      app.dataset.count = String(payload.free);
    }, 150);
  }

  function ring(latlngs) {
    const coords = latlngs.map((p) => [Number(p.lng.toFixed(7)), Number(p.lat.toFixed(7))]);
    if (coords.length) coords.push(coords[0]);
    return coords;
  }

  function polygonOf(latlngs) {
    return { type: "Polygon", coordinates: [ring(latlngs)] };
  }

  // ------------------------------------------------------------------ tools

  function setTool(next) {
    finishTool();
    tool = next;
    for (const button of app.querySelectorAll("[data-tool]")) {
      button.setAttribute("aria-pressed", String(button.dataset.tool === next));
    }
    if (cancelEl) cancelEl.hidden = !next;
    if (next === "draw") {
      say("Click on the map to place the corners; click the first corner again (or Save) to finish.");
      startPolygon();
    } else if (next === "reshape") {
      say("Click the turf to reshape.");
    } else if (next === "split") {
      say("Click the turf to split.");
    } else if (next === "merge") {
      say("Click the turfs to merge (two or more), then Save.");
      showForm(false);
    }
  }

  function finishTool() {
    if (handler) handler.disable();
    handler = null;
    for (const layer of selected) {
      if (layer.editing && layer.editing.enabled()) layer.editing.disable();
      highlight(layer, false);
    }
    selected = [];
    pending = null;
    formEl.hidden = true;
    tool = null;
    countSeq++;
    clearTimeout(countTimer);
    if (cancelEl) cancelEl.hidden = true;
    for (const button of app.querySelectorAll("[data-tool]")) button.setAttribute("aria-pressed", "false");
  }

  function showForm(withName) {
    formEl.hidden = false;
    nameEl.hidden = !withName;
    formEl.querySelector("label").hidden = !withName;
  }

  function startPolygon() {
    handler = new L.Draw.Polygon(map, {
      allowIntersection: false,
      showArea: false,
      shapeOptions: { color: "#0b61d6", weight: 3 },
    });
    handler.enable();
    showForm(true);
    saveEl.disabled = false;
    pending = { kind: "draw-open" };
  }

  map.on(L.Draw.Event.DRAWVERTEX, () => {
    if (tool !== "draw" || !handler || !handler._markers) return;
    const latlngs = handler._markers.map((m) => m.getLatLng());
    if (latlngs.length >= 3) countSoon(polygonOf(latlngs));
    else say(`${latlngs.length} corner${latlngs.length === 1 ? "" : "s"}: keep clicking.`);
  });

  map.on(L.Draw.Event.CREATED, (event) => {
    if (tool === "draw" && event.layerType === "polygon") {
      handler = null;
      const shape = event.layer.addTo(map);
      pending = { kind: "draw", polygon: polygonOf(shape.getLatLngs()[0]), layer: shape };
      countSoon(pending.polygon);
      showForm(true);
    } else if (tool === "split" && event.layerType === "polyline" && selected.length === 1) {
      handler = null;
      const line = event.layer.getLatLngs().map((p) => [Number(p.lng.toFixed(7)), Number(p.lat.toFixed(7))]);
      submit(data.splitUrl, { turf: selected[0].feature.properties.id, line: { type: "LineString", coordinates: line } });
    }
  });

  function onTurfClick(layer) {
    if (tool === "reshape" && !selected.length) {
      selected = [layer];
      highlight(layer, true);
      layer.editing.enable();
      showForm(false);
      pending = { kind: "reshape" };
      say(`Drag the corners of ${layer.feature.properties.name}, then Save.`);
      const recount = () => countSoon(layer.toGeoJSON().geometry, layer.feature.properties.id);
      layer.on("edit editdrag", recount);
      recount();
    } else if (tool === "split" && !selected.length) {
      selected = [layer];
      highlight(layer, true);
      say(`Draw a line across ${layer.feature.properties.name}: click points, then Save (or click the last one again).`);
      handler = new L.Draw.Polyline(map, { shapeOptions: { color: "#b00020", weight: 3 } });
      handler.enable();
      pending = { kind: "split-open" };
      showForm(false);
    } else if (tool === "merge") {
      const at = selected.indexOf(layer);
      if (at >= 0) {
        selected.splice(at, 1);
        highlight(layer, false);
      } else {
        selected.push(layer);
        highlight(layer, true);
      }
      const doors = selected.reduce((n, l) => n + l.feature.properties.door_count, 0);
      say(`${selected.length} turf${selected.length === 1 ? "" : "s"} chosen, ${doors} doors.`);
      pending = { kind: "merge" };
      showForm(false);
    } else if (!tool) {
      window.location.href = layer.feature.properties.url;
    }
  }

  async function submit(url, body) {
    saveEl.disabled = true;
    say("Saving…");
    const { ok, payload } = await post(url, body);
    saveEl.disabled = false;
    if (!ok) {
      say(payload.detail || "That did not work.", true);
      return false;
    }
    if (pending && pending.layer) map.removeLayer(pending.layer);
    finishTool();
    await loadLayers(false);
    say(payload.message || "Saved.");
    return true;
  }

  saveEl.addEventListener("click", () => {
    if (!pending) return;
    if (pending.kind === "draw-open" && handler) {
      // Save while drawing: finish the shape first (Leaflet.draw fires CREATED, then we save).
      if (handler._markers && handler._markers.length >= 3) {
        handler.completeShape();
        if (pending && pending.kind === "draw") submit(data.drawUrl, { polygon: pending.polygon, name: nameEl.value });
      } else {
        say("Place at least three corners first.", true);
      }
    } else if (pending.kind === "split-open" && handler) {
      if (handler._markers && handler._markers.length >= 2) handler.completeShape();
      else say("Click at least two points across the turf first.", true);
    } else if (pending.kind === "draw") {
      submit(data.drawUrl, { polygon: pending.polygon, name: nameEl.value });
    } else if (pending.kind === "reshape" && selected.length === 1) {
      submit(data.reshapeUrl, { turf: selected[0].feature.properties.id, polygon: selected[0].toGeoJSON().geometry });
    } else if (pending.kind === "merge") {
      if (selected.length < 2) say("Choose two or more turfs.", true);
      else submit(data.mergeUrl, { turfs: selected.map((l) => l.feature.properties.id) });
    }
  });

  for (const button of app.querySelectorAll("[data-tool]")) {
    button.addEventListener("click", () => {
      const next = button.dataset.tool;
      if (next === "cancel" || next === tool) {
        if (pending && pending.layer) map.removeLayer(pending.layer);
        finishTool();
        say("");
      } else {
        setTool(next);
      }
    });
  }
  if (!canEdit) say("");

  loadLayers(true).then(() => {
    if (!tool) say(`${app.dataset.turfs} turfs, ${app.dataset.doors} doors on the map.`);
  });
})();
