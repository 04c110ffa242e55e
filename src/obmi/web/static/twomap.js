/* Two indicators on one map (/kaart): the bivariate or symbol map, the scatter plot and the table,
   linked — hovering an area anywhere highlights it everywhere, choosing one (click, Enter) marks
   it everywhere and puts it in the URL (area=). The page is complete without this file: the table
   holds every figure. Values arrive protected by the server's disclosure control: a withheld
   value is null here and its words ("onderdrukt") are all a tooltip ever says of it. */
(function () {
  "use strict";

  function json(id) {
    const el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  const d = json("twomap-data") || {};
  const ui = json("twomap-words") || {};
  const lang = document.documentElement.lang || "nl";
  const locale = lang === "en" ? "en-GB" : "nl-BE";
  const HIGHLIGHT = "#d95f02", HOVER = "#7570b3", HATCH = "url(#twomap-hatch)";

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, (_, k) => (values[k] === undefined ? "" : values[k]));
  }

  /* ---- the form: a new choice shows at once; a new indicator or level gets its own latest periods */
  document.querySelectorAll("form[data-twomap-form]").forEach((form) => {
    form.querySelectorAll("select, input[type=radio]").forEach((control) => control.addEventListener("change", () => {
      if (control.hasAttribute("data-resets-periods")) {
        form.querySelectorAll("select[data-period]").forEach((p) => (p.disabled = true));
        // The chosen area and the area it lies in belong to the old level.
        if (control.name === "level") form.querySelectorAll("input[name=area], input[name=within]").forEach((i) => i.remove());
      }
      if (form.querySelector("select[name=x]").value && form.querySelector("select[name=y]").value) form.submit();
    }));
  });

  const root = document.getElementById("triptych");
  if (!root || !d.areas) return;
  const byCode = Object.fromEntries(d.areas.map((a) => [a.code, a]));
  const table = document.getElementById("table");
  const live = document.getElementById("map-live");
  let selected = d.selected || null, hovered = null, mapState = null, scatter = null;

  // "Gent — x: 12,3 %; y: 23.456 EUR" (a withheld value by its word, never a number).
  function describe(code) {
    const a = byCode[code];
    if (!a) return code;
    return `${a.name} — x: ${a.xText}; y: ${a.yText}`;
  }

  /* ---- linking: one state, drawn by the map, the scatter plot and the table */
  function styleMap() {
    if (!mapState) return;
    Object.entries(mapState.layers).forEach(([code, lyr]) => {
      const on = code === selected, hov = code === hovered;
      lyr.setStyle({ weight: on ? 3 : hov ? 2.5 : 0.6, color: on ? "#000" : hov ? HIGHLIGHT : "#444",
                     dashArray: hov && !on ? "4 3" : null });
      const path = lyr.getElement && lyr.getElement();
      if (path) {
        path.classList.toggle("hovered", hov);
        path.setAttribute("aria-pressed", on ? "true" : "false");
      }
      if (on || hov) lyr.bringToFront();
    });
    // The circles stay above every shape.
    Object.values(mapState.circles).forEach((c) => c.bringToFront());
  }

  function hover(code) {
    hovered = code || null;
    if (table) table.querySelectorAll("tbody tr").forEach((tr) => tr.classList.toggle("hover", tr.dataset.code === hovered));
    styleMap();
    if (scatter) scatter.signal("hov", hovered).runAsync();
  }

  function setRovingRow(code) {
    if (!table) return;
    const rows = Array.from(table.tBodies[0].rows);
    const target = rows.find((tr) => tr.dataset.code === code) || rows[0];
    rows.forEach((tr) => tr.setAttribute("tabindex", tr === target ? "0" : "-1"));
  }

  function select(code, fromPage) {
    selected = code || null;
    if (table) {
      table.querySelectorAll("tbody tr").forEach((tr) => {
        const on = tr.dataset.code === selected;
        tr.setAttribute("aria-selected", on ? "true" : "false");
        if (on && !fromPage) scrollIntoBox(tr);
      });
      if (selected) setRovingRow(selected);
    }
    styleMap();
    if (scatter) scatter.signal("sel", selected).runAsync();
    const url = new URL(window.location.href);
    if (selected) url.searchParams.set("area", selected); else url.searchParams.delete("area");
    history.replaceState(null, "", url);
    // A new choice in the form keeps the chosen area.
    document.querySelectorAll("form[data-twomap-form]").forEach((form) => {
      let input = form.querySelector("input[name=area]");
      if (!input && selected) {
        input = Object.assign(document.createElement("input"), { type: "hidden", name: "area" });
        form.appendChild(input);
      }
      if (input && selected) input.value = selected;
      else if (input) input.remove();
    });
    showSheetLink();
  }

  // The chosen row into view inside the table's own scrolling box; the page itself stays where
  // the reader is (the map or the scatter plot they just clicked).
  function scrollIntoBox(tr) {
    const box = tr.closest(".table-scroll");
    if (!box) return;
    const offset = tr.getBoundingClientRect().top - box.getBoundingClientRect().top;
    if (offset < 0 || offset > box.clientHeight - tr.offsetHeight) box.scrollTop += offset - box.clientHeight / 2;
  }

  function showSheetLink() {
    const holder = document.getElementById("sheet-link");
    if (!holder) return;
    const a = byCode[selected];
    holder.hidden = !a;
    if (!a) return;
    const link = holder.querySelector("a");
    link.href = `/gebieden/${d.level}/${encodeURIComponent(a.code)}?lang=${lang}`;
    link.textContent = fill(ui.sheetOf, { name: a.name });
  }

  /* ---- the table: sortable, one tab stop, arrows move between rows */
  function sortRows(key, ascending) {
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    const number = (tr) => (tr.dataset[key] === "" ? -Infinity : parseFloat(tr.dataset[key]));
    rows.sort((a, b) => {
      if (key === "name") {
        const x = a.cells[0].textContent.trim(), y = b.cells[0].textContent.trim();
        return ascending ? x.localeCompare(y, locale) : y.localeCompare(x, locale);
      }
      return ascending ? number(a) - number(b) : number(b) - number(a);
    });
    rows.forEach((row) => body.appendChild(row));
  }

  function wireTable() {
    if (!table) return;
    table.querySelectorAll("th button[data-sort]").forEach((button) => button.addEventListener("click", () => {
      const th = button.closest("th");
      const ascending = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("thead th").forEach((h) => h.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      sortRows(button.dataset.sort, ascending);
    }));
    window.obmiRowKeys(table, select, hover, setRovingRow);
  }

  /* ---- the map */
  function drawMap(el) {
    // The arrow keys move between areas (mapKeys below), not the view.
    const map = L.map(el, { zoomSnap: 0.25, keyboard: false });
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Statbel · Provincies in Cijfers");
    if (window.obmiBaseMap) window.obmiBaseMap(map);
    const layers = {}, circles = {};
    return fetch(d.geojson).then((r) => r.json()).then((geojson) => {
      const shapes = L.geoJSON(geojson, {
        style: (f) => {
          const a = byCode[f.properties.code];
          return { fillColor: a && a.colour ? a.colour : HATCH, weight: 0.6, color: "#444", fillOpacity: 0.9 };
        },
        onEachFeature: (f, lyr) => {
          const code = f.properties.code;
          layers[code] = lyr;
          lyr.bindTooltip(byCode[code] ? describe(code) : f.properties.name, { sticky: true });
          lyr.on("click", () => select(code));
          lyr.on("mouseover", () => hover(code));
          lyr.on("mouseout", () => hover(null));
        },
      }).addTo(map);
      // The view first: circles need it to be placed.
      if (geojson.features.length) map.fitBounds(shapes.getBounds());
      // Largest first, so that a small circle is never hidden under a large one.
      d.areas.filter((a) => a.radius && a.point).sort((a, b) => b.radius - a.radius).forEach((a) => {
        const circle = L.circleMarker(a.point, { radius: a.radius, fillColor: HIGHLIGHT, fillOpacity: 0.55,
                                                 color: "#7a3300", weight: 1 }).addTo(map);
        circle.bindTooltip(describe(a.code), { sticky: true });
        circle.on("click", () => select(a.code));
        circle.on("mouseover", () => hover(a.code));
        circle.on("mouseout", () => hover(null));
        circles[a.code] = circle;
        const path = circle.getElement && circle.getElement();
        if (path) { path.dataset.symbol = a.code; path.classList.add("symbol"); }
      });
      // The shapes are no tab stops (hundreds of them): the map itself is one, and says what the
      // arrow keys reach through its live region; the table holds the same figures.
      map.getPane("overlayPane").setAttribute("aria-hidden", "true");
      Object.entries(layers).forEach(([code, lyr]) => {
        const path = lyr.getElement && lyr.getElement();
        if (path) path.dataset.code = code;
      });
      return { map, layers, circles };
    });
  }

  // Arrow keys on the map, the same navigation as on the indicator page (obmi.js: obmiMapKeys);
  // each step opens the area's tooltip and says it in the live region.
  function mapKeys(state) {
    let open = null;
    const start = () => (selected && state.layers[selected] ? selected : null);
    window.obmiMapKeys(state, start, (code) => {
      if (open && state.layers[open]) state.layers[open].closeTooltip();
      open = code;
      hover(code);
      if (!code) return;
      const lyr = state.layers[code];
      lyr.openTooltip(lyr.getBounds().getCenter());
      if (live) live.textContent = describe(code);
    }, (code) => {
      select(code);
      if (live) live.textContent = fill(ui.chosen, { area: describe(code) });
    });
  }

  /* ---- the scatter plot */
  const vegaLocale = { number: { decimal: lang === "en" ? "." : ",", thousands: lang === "en" ? "," : ".",
                                 grouping: [3], currency: ["€", ""] } };

  function scatterSpec() {
    const points = d.areas.filter((a) => a.x !== null && a.y !== null)
      .map((a) => ({ code: a.code, name: a.name, x: a.x, y: a.y, xText: a.xText, yText: a.yText,
                     label: describe(a.code) }));
    // Explicit domains (the published values and the reference): the chosen-area layer, often
    // empty, then has no extent of its own to compute.
    const domain = (field, side) => {
      const values = points.map((p) => p[field]).concat(side.reference === null ? [] : [side.reference]);
      return [Math.min(...values), Math.max(...values)];
    };
    const axis = (side) => {
      const field = side === d.x ? "x" : "y";
      return { field, type: "quantitative", title: side.title, scale: { zero: false, nice: true, domain: domain(field, side) } };
    };
    const tooltip = [{ field: "name", title: ui.area || " " }, { field: "xText", title: d.x.name },
                     { field: "yText", title: d.y.name }];
    const layers = [{
      name: "area_points",
      mark: { type: "point", filled: true, cursor: "pointer", opacity: 0.8 },
      encoding: {
        x: axis(d.x), y: axis(d.y), tooltip, description: { field: "label" },
        color: { condition: { test: "datum.code === hov", value: HOVER }, value: "#3b6ea5" },
        size: { condition: { test: "datum.code === hov", value: 150 }, value: 40 },
      },
    }];
    [[d.x, "x"], [d.y, "y"]].forEach(([side, channel]) => {
      if (side.reference === null || side.reference === undefined) return;
      layers.push({
        data: { values: [{ value: side.reference, label: `${d.referenceName || ui.reference}: ${side.referenceText}` }] },
        mark: { type: "rule", color: "#000", strokeDash: [4, 3], strokeWidth: 1.2 },
        encoding: { [channel]: { field: "value", type: "quantitative" }, tooltip: [{ field: "label", title: " " }] },
      });
    });
    // The chosen area on top of everything, ringed.
    layers.push({
      name: "selected_point",
      transform: [{ filter: "datum.code === sel" }],
      mark: { type: "point", filled: true, size: 170, color: HIGHLIGHT, stroke: "#000", strokeWidth: 2, opacity: 1 },
      encoding: { x: axis(d.x), y: axis(d.y), tooltip, description: { field: "label" } },
    });
    return {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      width: "container", height: 300, autosize: { type: "fit-x", contains: "padding" },
      data: { values: points },
      params: [{ name: "sel", value: selected }, { name: "hov", value: null }],
      layer: layers,
      config: { locale: vegaLocale },
    };
  }

  // ast: Vega's own expression interpreter instead of eval, and no injected <style> (the CSP allows neither).
  const vegaOptions = { actions: false, renderer: "svg", ast: true, defaultStyle: false,
                        tooltip: { disableDefaultStyle: true } };

  function drawScatter(el) {
    return vegaEmbed(el, scatterSpec(), vegaOptions).then((result) => {
      scatter = result.view;
      const code = (item) => item && item.datum && item.datum.code;
      scatter.addEventListener("click", (_, item) => code(item) && select(code(item)));
      scatter.addEventListener("mouseover", (_, item) => code(item) && hover(code(item)));
      scatter.addEventListener("mouseout", () => hover(null));
      return scatter.signal("sel", selected).signal("hov", hovered).runAsync();
    });
  }

  /* ---- start */
  wireTable();
  const mapEl = document.getElementById("map");
  const scatterEl = document.getElementById("scatter");
  const mapReady = mapEl && d.geojson && typeof L !== "undefined"
    ? drawMap(mapEl).then((state) => { mapState = state; mapKeys(state); })
    : Promise.resolve();
  // A chart that cannot be drawn leaves the map and the table working (they hold every figure).
  const scatterReady = scatterEl && typeof vegaEmbed !== "undefined"
    ? drawScatter(scatterEl).catch((error) => console.error("scatter plot:", error)) : Promise.resolve();
  Promise.all([mapReady, scatterReady]).then(() => {
    if (selected) select(selected, true);
    else styleMap();
    root.dataset.ready = "true";
  });
})();
