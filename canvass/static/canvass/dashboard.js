// The dashboard's turf table: sort by a column (a click on its head) and page through
// the rows (data-page per page). Each cell's data-v is its value to sort by; the
// server sends the rows in the order that needs attention, past the first page hidden.
"use strict";

function setUpTable(table) {
  const size = Number(table.dataset.page) || 25;
  const body = table.tBodies[0];
  const rows = [...body.rows];
  const pager = document.querySelector(`.fo-pager[data-for="${table.id}"]`);
  let page = 0;

  function show() {
    const pages = Math.max(1, Math.ceil(rows.length / size));
    page = Math.min(Math.max(page, 0), pages - 1);
    rows.forEach((row, i) => { row.hidden = Math.floor(i / size) !== page; });
    if (!pager) return;
    const first = page * size + 1;
    const last = Math.min(rows.length, first + size - 1);
    pager.textContent = "";
    const prev = Object.assign(document.createElement("button"), { type: "button", textContent: "‹ Previous" });
    const next = Object.assign(document.createElement("button"), { type: "button", textContent: "Next ›" });
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    prev.addEventListener("click", () => { page -= 1; show(); });
    next.addEventListener("click", () => { page += 1; show(); });
    const label = document.createElement("span");
    label.textContent = `Turfs ${first.toLocaleString()}–${last.toLocaleString()} of ${rows.length.toLocaleString()}`;
    pager.append(prev, label, next);
  }

  [...table.tHead.rows[0].cells].forEach((th, column) => {
    th.tabIndex = 0;
    const sort = () => {
      const ascending = th.getAttribute("aria-sort") !== "ascending";
      for (const other of table.tHead.rows[0].cells) other.removeAttribute("aria-sort");
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const value = (row) => row.cells[column]?.dataset.v ?? "";
      const numeric = rows.every((row) => value(row) === "" || !Number.isNaN(Number(value(row))));
      rows.sort((a, b) => {
        const [x, y] = [value(a), value(b)];
        const order = x === y ? 0 : numeric ? (x === "" ? Infinity : Number(x)) - (y === "" ? Infinity : Number(y))
          : x.localeCompare(y, undefined, { numeric: true });
        return ascending ? order : -order;
      });
      body.append(...rows);
      page = 0;
      show();
    };
    th.addEventListener("click", sort);
    th.addEventListener("keydown", (event) => { if (event.key === "Enter") sort(); });
  });
  show();
}

document.querySelectorAll("table.fo-sortable").forEach(setUpTable);
