/* OBMi area picker (templates/_area_picker.html): the text field becomes an ARIA combobox with
   suggestions from /api/v1/areas/suggest (names, former municipalities, "Vlaanderen"); arrow
   keys move through them, Enter chooses, Escape closes. The picker works without this file: the
   server looks up a typed name when the form is sent.
   Also, for every page with a form of choices: after Back (the page restored from the
   back-forward cache, or its fields restored by the browser) the fields are set again to what
   the page's URL says, so that the selectors always match the map, the table and the chart. */
(function () {
  "use strict";

  const lang = document.documentElement.lang || "nl";
  const words = lang === "en"
    ? { found: (n) => (n === 1 ? "1 area found" : `${n} areas found`), none: "No area found",
        added: (label) => `Added: ${label}`, removed: (label) => `Removed: ${label}` }
    : { found: (n) => (n === 1 ? "1 gebied gevonden" : `${n} gebieden gevonden`), none: "Geen gebied gevonden",
        added: (label) => `Toegevoegd: ${label}`, removed: (label) => `Verwijderd: ${label}` };
  const DEBOUNCE_MS = 150;
  const LIMIT = 8;
  let counter = 0;

  function picker(root) {
    const name = root.dataset.name;
    const multiple = root.dataset.multiple === "true";
    const form = root.closest("form");
    const input = root.querySelector(".picker-input");
    const picked = root.querySelector(".picked");
    const id = input.id || `area-picker-${++counter}`;
    const list = document.createElement("ul");
    list.id = `${id}-options`;
    list.className = "picker-options";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", root.querySelector("legend").textContent.trim());
    list.hidden = true;
    const status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    input.after(list, status);
    Object.entries({ role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false",
                     "aria-controls": list.id }).forEach(([k, v]) => input.setAttribute(k, v));
    let options = [], active = -1, timer = null, asked = "";

    // The tree's checkboxes mirror the chosen areas (one field per area is sent: the chip's).
    const treeBoxes = Array.from(root.querySelectorAll("input[data-tree-key]"));
    treeBoxes.forEach((box) => {
      box.removeAttribute("name");
      box.disabled = false;
      box.addEventListener("change", () => {
        const label = box.parentElement.textContent.trim();
        if (box.checked) choose(box.dataset.treeKey, label);
        else unchoose(box.dataset.treeKey, label);
      });
    });

    function chips() {
      return Array.from(picked.querySelectorAll(`input[name="${name}"]`));
    }

    function syncTree() {
      const on = new Set(chips().filter((c) => c.type === "hidden" || c.checked).map((c) => c.value));
      treeBoxes.forEach((box) => (box.checked = on.has(box.dataset.treeKey)));
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      active = index;
      options.forEach((el, i) => el.setAttribute("aria-selected", i === index ? "true" : "false"));
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else input.removeAttribute("aria-activedescendant");
    }

    function show(data) {
      list.replaceChildren();
      options = data.data.map((item, i) => {
        const li = document.createElement("li");
        li.id = `${list.id}-${i}`;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.dataset.key = item.key;
        li.textContent = item.label;
        // mousedown, not click: the field keeps the focus (no blur closing the list first).
        li.addEventListener("mousedown", (e) => { e.preventDefault(); choose(item.key, item.label); });
        list.appendChild(li);
        return li;
      });
      const open = options.length > 0;
      list.hidden = !open;
      input.setAttribute("aria-expanded", open ? "true" : "false");
      status.textContent = open ? words.found(data.count) : words.none;
      highlight(-1);
    }

    function ask() {
      const q = input.value.trim();
      if (q === asked) return;
      asked = q;
      if (!q) { close(); status.textContent = ""; return; }
      const params = new URLSearchParams({ q, limit: String(LIMIT), lang });
      fetch(`/api/v1/areas/suggest?${params}`, { headers: { Accept: "application/json" } })
        .then((r) => (r.ok ? r.json() : { data: [], count: 0 }))
        .then((data) => { if (input.value.trim() === q) show(data); })
        .catch(() => close());
    }

    function chip(key, label) {
      const li = document.createElement("li");
      const field = Object.assign(document.createElement("input"), { name, value: key });
      if (multiple) {
        field.type = "checkbox";
        field.checked = true;
        field.addEventListener("change", syncTree);
        const wrap = document.createElement("label");
        wrap.append(field, " " + label);
        li.appendChild(wrap);
      } else {
        field.type = "hidden";
        const text = Object.assign(document.createElement("span"), { className: "picked-one", textContent: label });
        li.append(field, text);
      }
      return li;
    }

    function choose(key, label) {
      close();
      input.value = "";
      asked = "";
      const known = chips().find((c) => c.value === key);
      if (known) known.checked = true;
      else if (multiple) picked.appendChild(chip(key, label));
      else picked.replaceChildren(chip(key, label));
      picked.hidden = false;
      syncTree();
      status.textContent = words.added(label);
      if (!multiple && form) form.requestSubmit();  // one area: show it at once
      else input.focus();
    }

    function unchoose(key, label) {
      chips().filter((c) => c.value === key).forEach((c) => (c.checked = false));
      syncTree();
      status.textContent = words.removed(label);
    }

    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(ask, DEBOUNCE_MS);
    });
    input.addEventListener("keydown", (e) => {
      const open = !list.hidden && options.length > 0;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (!open) { asked = ""; ask(); return; }
        const step = e.key === "ArrowDown" ? 1 : -1;
        highlight((active + step + options.length + (active < 0 && step < 0 ? 1 : 0)) % options.length);
      } else if (e.key === "Enter" && open) {
        e.preventDefault();  // choose, do not send the form yet
        const option = options[Math.max(active, 0)];
        choose(option.dataset.key, option.textContent);
      } else if (e.key === "Escape") {
        if (open) { e.preventDefault(); close(); } else if (input.value) { e.preventDefault(); input.value = ""; asked = ""; }
      }
    });
    input.addEventListener("blur", () => setTimeout(close, 120));
    const initial = picked.cloneNode(true);  // the chosen areas as the server wrote them
    function bindChips() {
      picked.querySelectorAll("input[type=checkbox]").forEach((c) => c.addEventListener("change", syncTree));
    }
    bindChips();
    // An empty text field sends nothing (not "area=").
    if (form) form.addEventListener("submit", () => { if (!input.value.trim()) input.removeAttribute("name"); });

    return {
      // The chosen areas as the server wrote them for this URL (after Back): not what was being
      // picked before leaving (a typed name on the URL is looked up by the server).
      resync() {
        input.value = "";
        input.setAttribute("name", name);
        asked = "";
        close();
        picked.replaceChildren(...initial.cloneNode(true).childNodes);
        picked.hidden = initial.hidden;
        bindChips();
        syncTree();
      },
    };
  }

  const pickers = Array.from(document.querySelectorAll("[data-area-picker]")).map(picker);

  // The fields of the page's forms as the URL says: a parameter in the URL wins (scripts keep it
  // up to date, e.g. the area chosen on the map), else what the server wrote into the page.
  function resyncForms(restored) {
    const params = new URLSearchParams(window.location.search);
    document.querySelectorAll("form.controls").forEach((form) => {
      form.querySelectorAll("select").forEach((select) => {
        if (restored) select.disabled = false;  // obmi.js disables the period while the level changes
        const wanted = params.get(select.name);
        const options = Array.from(select.options);
        const match = select.multiple ? null : options.find((o) => o.value === wanted);
        if (select.multiple) options.forEach((o) => (o.selected = params.has(select.name) ? params.getAll(select.name).includes(o.value) : o.defaultSelected));
        else if (match) select.value = wanted;
        else options.forEach((o) => (o.selected = o.defaultSelected));
      });
      form.querySelectorAll("input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not(.picker-input)")
        .forEach((input) => { input.value = params.has(input.name) ? params.get(input.name) : input.defaultValue; });
      form.querySelectorAll("input[type=checkbox]:not([data-tree-key]), input[type=radio]").forEach((box) => {
        if (box.closest("[data-area-picker]")) return;
        box.checked = box.defaultChecked;
      });
    });
    pickers.forEach((p) => p.resync());
  }

  window.addEventListener("pageshow", (event) => resyncForms(event.persisted));
})();
