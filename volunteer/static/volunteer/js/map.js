// map: the turf's polygon, its doors and the volunteer's position drawn as SVG, with no map tiles (works offline).

import * as geo from "./geo.js";
import { t } from "./i18n.js";
import { isDone } from "./model.js";

const NS = "http://www.w3.org/2000/svg";
const SIZE = 1000; // the longer side of the view box
const PAD = 40;

function svg(tag, attrs = {}) {
  const element = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) element.setAttribute(key, String(value));
  return element;
}

/**
 * A projection of [lng, lat] onto a view box fitted to the points' shape (a long, thin turf fills
 * the width): equirectangular, scaled by cos(latitude) so that the turf keeps its shape.
 */
export function projection(points) {
  const lats = points.map((p) => p[1]);
  const lngs = points.map((p) => p[0]);
  const [minLat, maxLat, minLng, maxLng] = [Math.min(...lats), Math.max(...lats), Math.min(...lngs), Math.max(...lngs)];
  const k = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
  const width = Math.max((maxLng - minLng) * k, 1e-6);
  const height = Math.max(maxLat - minLat, 1e-6);
  const scale = (SIZE - 2 * PAD) / Math.max(width, height);
  const project = ([lng, lat]) => [PAD + (lng - minLng) * k * scale, PAD + (maxLat - lat) * scale];
  // At least half as tall as wide, so that a turf along one street is still a map.
  project.width = Math.round(Math.max(width * scale + 2 * PAD, (SIZE * 2) / 3));
  project.height = Math.round(Math.max(height * scale + 2 * PAD, SIZE / 2));
  return project;
}

export function turfMap({ polygon, doors, onDoor }) {
  const located = doors.filter((door) => typeof door.lat === "number" && typeof door.lng === "number");
  const rings = polygon && polygon.type === "Polygon" ? polygon.coordinates : polygon && polygon.type === "MultiPolygon" ? polygon.coordinates.flat() : [];
  const points = [...located.map((door) => [door.lng, door.lat]), ...rings.flat()];
  const done = located.filter(isDone).length;
  const root = svg("svg", { viewBox: `0 0 ${SIZE} ${SIZE}`, role: "img", class: "turf-map" });
  root.append(Object.assign(svg("title"), { textContent: `${t("mapLabel")}: ${done} / ${located.length}` }));
  if (!points.length) return root;
  const project = projection(points);
  root.setAttribute("viewBox", `0 0 ${project.width} ${project.height}`);
  for (const ring of rings) {
    root.append(svg("polygon", { class: "turf-outline", points: ring.map((p) => project(p).join(",")).join(" ") }));
  }
  // One mark a building (its units share a point): done when all its doors are; a tap opens its next door.
  const buildings = new Map();
  for (const door of located) {
    const key = door.building_key || `door:${door.id}`;
    if (!buildings.has(key)) buildings.set(key, []);
    buildings.get(key).push(door);
  }
  for (const doors of buildings.values()) {
    const [x, y] = project([doors[0].lng, doors[0].lat]);
    const todo = doors.filter((door) => !isDone(door));
    const mark = todo.length
      ? svg("circle", { class: "door-todo", cx: x, cy: y, r: 16 }) // to do: a ring
      : svg("rect", { class: "door-done", x: x - 14, y: y - 14, width: 28, height: 28 }); // done: a filled square
    mark.addEventListener("click", () => onDoor(todo[0] || doors[0]));
    const title = svg("title");
    title.textContent = doors.length > 1 ? `${doors[0].address} (${doors.length})` : doors[0].address;
    mark.append(title);
    root.append(mark);
  }
  const you = svg("g", { class: "you", visibility: "hidden" });
  you.append(svg("circle", { r: 16, class: "you-ring" }), svg("circle", { r: 7, class: "you-dot" }));
  const label = svg("text", { x: 20, y: 6, class: "you-label" });
  label.textContent = t("you");
  you.append(label);
  root.append(you);
  const place = (position) => {
    if (!position) return;
    const [x, y] = project([position.lng, position.lat]);
    const inside = x >= 0 && x <= project.width && y >= 0 && y <= project.height;
    you.setAttribute("visibility", inside ? "visible" : "hidden");
    you.setAttribute("transform", `translate(${x},${y})`);
  };
  place(geo.current());
  const stop = geo.onPosition(place);
  // Stop following once the map has left the page.
  const observer = new MutationObserver(() => {
    if (!root.isConnected) {
      stop();
      observer.disconnect();
    }
  });
  requestAnimationFrame(() => observer.observe(document.getElementById("screen"), { childList: true }));
  const legend = document.createElement("p");
  legend.className = "map-legend";
  legend.textContent = `○ ${t("remaining")} · ■ ${t("done")} · ◉ ${t("you")}`;
  const box = document.createElement("div");
  box.className = "map-box";
  box.append(root, legend);
  return box;
}
