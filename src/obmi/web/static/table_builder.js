/* The table builder (templates/table_builder.html). The page is complete without this file: the
   form is a plain GET form and the table holds every figure. This adds
   - a filter over the indicators (every typed word, accents and case ignored),
   - the period choice following the field used (a period list chosen means "these periods"),
   - with htmx loaded: the table follows each choice at once (htmx swaps only the result in),
   - sortable columns (a cell without a number — a sign — sorts last either way),
   - "Kopieer link": the table's link to the clipboard.
   No inline script and no eval: the words come from data-* attributes of the page. */
(function () {
  "use strict";

  const lang = document.documentElement.lang || "nl";
  const locale = lang === "en" ? "en-GB" : "nl-BE";
  const form = document.getElementById("table-form");
  const AUTO_SUBMIT_MS = 600;

  function plain(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function fill(template, n) {
    return String(template || "").replace("{n}", String(n));
  }

  /* ------------------------------------------------------------ the indicator filter */
  function filterIndicators(input) {
    const words = plain(input.value).split(/\s+/).filter(Boolean);
    let shown = 0;
    document.querySelectorAll("[data-theme-group]").forEach((group) => {
      let inGroup = 0;
      group.querySelectorAll("li[data-search]").forEach((item) => {
        const haystack = plain(item.dataset.search + " " + item.textContent);
        const match = words.every((w) => haystack.includes(w));
        item.hidden = !match;
        if (match) inGroup += 1;
      });
      group.hidden = inGroup === 0;
      if (words.length && inGroup) group.open = true;
      shown += inGroup;
    });
    const status = document.getElementById("indicator-filter-status");
    if (status) {
      status.textContent = !words.length ? "" : shown === 0 ? status.dataset.none
        : shown === 1 ? status.dataset.one : fill(status.dataset.found, shown);
    }
  }

  function countChosen(group) {
    const count = group.querySelector("[data-chosen-count]");
    if (!count) return;
    const n = group.querySelectorAll("input[name=indicator]:checked").length;
    count.textContent = n ? `(${fill(count.dataset.words, n)})` : "";
  }

  /* ------------------------------------------------------------ sorting */
  function sortKey(cell, numeric) {
    const raw = cell.dataset.value;
    if (numeric || (raw !== undefined && raw !== "" && !Number.isNaN(Number(raw)))) {
      return raw === undefined || raw === "" ? null : Number(raw);
    }
    return cell.textContent.trim();
  }

  function sortTable(button) {
    const table = button.closest("table");
    const th = button.closest("th");
    const column = Number(button.dataset.sortColumn);
    const numeric = button.hasAttribute("data-numeric");
    const ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("thead th[aria-sort]").forEach((h) => h.setAttribute("aria-sort", "none"));
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    table.querySelectorAll("tbody[data-sortable]").forEach((body) => {
      const rows = Array.from(body.rows).map((row) => ({ row, key: sortKey(row.cells[column], numeric) }));
      rows.sort((a, b) => {
        if (a.key === null || b.key === null) return (a.key === null) - (b.key === null);  // signs last
        const order = typeof a.key === "number" && typeof b.key === "number" ? a.key - b.key
          : String(a.key).localeCompare(String(b.key), locale, { numeric: true });
        return ascending ? order : -order;
      });
      rows.forEach(({ row }) => body.appendChild(row));
    });
  }

  /* ------------------------------------------------------------ copying the link */
  function copied(button, ok) {
    const status = button.parentElement.querySelector(".copy-status");
    if (status) status.textContent = ok ? button.dataset.copied : button.dataset.failed;
  }

  function copyLink(button) {
    const link = document.getElementById(button.dataset.copyLink);
    if (!link) return;
    const url = new URL(link.getAttribute("href"), window.location.href).href;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(url).then(() => copied(button, true), () => copied(button, false));
      return;
    }
    const area = Object.assign(document.createElement("textarea"), { value: url });
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    area.remove();
    copied(button, ok);
  }

  function reveal(root) {
    root.querySelectorAll("[data-copy-link]").forEach((button) => (button.hidden = false));
  }

  /* ------------------------------------------------------------ wiring */
  const filterBox = document.querySelector("[data-filter-box]");
  if (filterBox) {
    filterBox.hidden = false;
    const input = filterBox.querySelector("input");
    input.addEventListener("input", () => filterIndicators(input));
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") e.preventDefault(); });  // filter, not send
  }
  reveal(document);

  document.addEventListener("click", (e) => {
    const sort = e.target.closest("button[data-sort-column]");
    if (sort) sortTable(sort);
    const copy = e.target.closest("button[data-copy-link]");
    if (copy) copyLink(copy);
  });

  if (!form) return;
  let timer = null;
  form.addEventListener("change", (e) => {
    const field = e.target;
    const group = field.closest("[data-theme-group]");
    if (group) countChosen(group);
    const mode = field.dataset && field.dataset.mode;
    if (mode) {
      const radio = form.querySelector(`input[name=periods][value=${mode}]`);
      if (radio) radio.checked = true;
    }
    // Without htmx every change would load the whole page: then the button sends the form.
    if (!window.htmx || field.type === "text" || field.type === "search" || field.classList.contains("picker-input")) return;
    clearTimeout(timer);
    timer = setTimeout(() => form.requestSubmit(), AUTO_SUBMIT_MS);
  });
  form.addEventListener("input", (e) => {
    const mode = e.target.dataset && e.target.dataset.mode;
    if (mode === "range") {
      const radio = form.querySelector("input[name=periods][value=range]");
      if (radio) radio.checked = true;
    }
  });
  form.addEventListener("submit", () => clearTimeout(timer));
  // An area chosen in the picker becomes a chip (no change event): the table follows it too —
  // not when the picker only sets its chips back to the address's (after Back, at every load).
  if (window.htmx) {
    form.querySelectorAll("[data-area-picker][data-multiple=true] .picked").forEach((list) => {
      const chosen = () => Array.from(list.querySelectorAll("input:checked")).map((c) => c.value).join(" ");
      let known = chosen();
      new MutationObserver(() => {
        if (chosen() === known) return;
        known = chosen();
        clearTimeout(timer);
        timer = setTimeout(() => form.requestSubmit(), AUTO_SUBMIT_MS);
      }).observe(list, { childList: true });
    });
  }

  // After htmx swapped the result in: its copy button, and a short word for screen readers.
  document.body.addEventListener("htmx:afterSettle", () => {
    reveal(document);
    const status = document.getElementById("table-status");
    const said = document.querySelector("#selection-caption, #table-result .empty-title");
    if (status) status.textContent = `${status.dataset.updated} ${said ? said.textContent.trim() : ""}`;
  });
})();
