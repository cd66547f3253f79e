// Walk sheets: the Print button (a file, not an onclick attribute: the pages allow no inline script).
for (const button of document.querySelectorAll("button[data-print]")) button.addEventListener("click", () => window.print());
