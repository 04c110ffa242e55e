/* OBMi front end: the linked map + chart + table, sparklines, small multiples and dashboard
   tiles. Pages are complete without this file (tables carry every figure); it adds the visuals.
   Values arrive already protected by the server's disclosure control: a suppressed value is
   null here and is never shown, charted or put in a tooltip. */
(function () {
  "use strict";

  const pageData = (() => {
    const el = document.getElementById("page-data");
    return el ? JSON.parse(el.textContent) : {};
  })();
  const lang = document.documentElement.lang || "nl";
  const locale = lang === "en" ? "en-GB" : "nl-BE";
  // The sign and word of each status without a value, as on the pages (obmi.publish.signs).
  const signs = lang === "en"
    ? { suppressed: ["x", "suppressed"], not_applicable: ["n/a", "not applicable"], missing: ["?", "unknown"],
        empty: ["–", "no data"] }
    : { suppressed: ["x", "onderdrukt"], not_applicable: ["n.v.t.", "niet van toepassing"],
        missing: ["?", "onbekend"], empty: ["–", "geen gegevens"] };
  const words = lang === "en"
    ? { noShape: (name) => `No map for ${name}: this area has no boundaries. The table shows its figures.`,
        noSeries: (name) => `No time series for ${name}.` }
    : { noShape: (name) => `Geen kaart voor ${name}: dit gebied heeft geen gebiedsgrenzen. De tabel toont de cijfers.`,
        noSeries: (name) => `Geen tijdreeks voor ${name}.` };
  // Words of the page's template (Dutch, or English from the catalogue) for what the script writes.
  const ui = (() => {
    const el = document.getElementById("ui-words");
    return el ? JSON.parse(el.textContent) : {};
  })();
  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, (_, k) => (values[k] === undefined ? "" : values[k]));
  }
  // 12 → "12e" (Dutch), "12th" (English).
  function ordinal(n) {
    if (lang !== "en") return `${n}e`;
    const tens = n % 100, ones = n % 10;
    return n + (tens >= 11 && tens <= 13 ? "th" : ones === 1 ? "st" : ones === 2 ? "nd" : ones === 3 ? "rd" : "th");
  }
  const HIGHLIGHT = "#d95f02";
  // ast: Vega's expression interpreter instead of eval; no <style> elements of its own (vega-embed.css):
  // the Content-Security-Policy allows neither.
  const vegaOptions = { actions: false, renderer: "svg", ast: true, defaultStyle: false,
                        tooltip: { disableDefaultStyle: true } };

  function fmt(value, decimals) {
    if (value === null || value === undefined) return "";
    return new Intl.NumberFormat(locale, { minimumFractionDigits: decimals, maximumFractionDigits: decimals })
      .format(value);
  }

  // A row without a value: its sign and word ("x onderdrukt"); an area without a row reads as
  // the server's rows without an observation do: unknown.
  function label(row, decimals, unit) {
    if (row.value === null || row.value === undefined) return (signs[row.status] || signs.missing).join(" ");
    return fmt(row.value, decimals) + (unit === "%" ? " %" : "");
  }

  /* ---------------------------------------------------------------- forms */
  document.querySelectorAll("form[data-autosubmit] select, form[data-autosubmit] input[type=checkbox]").forEach((select) =>
    select.addEventListener("change", () => {
      // Another level has its own periods: let the server take that level's latest one rather
      // than ask for this period there (which may have no data).
      if (select.name === "level") select.form.querySelectorAll("select[name=period]").forEach((p) => (p.disabled = true));
      // Only a change of level needs the server to carry the chosen area over (and answer with
      // the new level's address); any other change keeps the address as it is.
      select.form.querySelectorAll("input[name=from_level]").forEach((f) => (f.disabled = select.name !== "level"));
      select.form.submit();
    }));

  // Inputs holding several LEVEL:CODE refs separated by spaces become repeated parameters.
  document.querySelectorAll("form").forEach((form) => form.addEventListener("submit", () => {
    form.querySelectorAll("[data-split-refs]").forEach((input) => {
      input.value.split(/[\s,;]+/).filter(Boolean).forEach((token) => {
        const hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = input.name;
        hidden.value = token;
        form.appendChild(hidden);
      });
      input.removeAttribute("name");
    });
  }));

  /* ---------------------------------------------------------------- sortable tables */
  function sortRows(table, key, ascending) {
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    rows.sort((a, b) => {
      if (key !== "value") {
        const x = a.cells[0].textContent.trim(), y = b.cells[0].textContent.trim();
        return ascending ? x.localeCompare(y, locale) : y.localeCompare(x, locale);
      }
      const x = a.dataset.value === "" ? -Infinity : parseFloat(a.dataset.value);
      const y = b.dataset.value === "" ? -Infinity : parseFloat(b.dataset.value);
      return ascending ? x - y : y - x;
    });
    rows.forEach((row) => body.appendChild(row));
  }

  document.querySelectorAll("table.sortable").forEach((table) => {
    table.querySelectorAll("th button[data-sort]").forEach((button) => {
      button.addEventListener("click", () => {
        const th = button.closest("th");
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        table.querySelectorAll("thead th").forEach((h) => h.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        sortRows(table, button.dataset.sort, ascending);
      });
    });
  });

  /* ---------------------------------------------------------------- time */
  // Where a period lies on a time axis, in years: 2015 → 2015, 2015-Q2 → 2015.25, 2015-03 →
  // 2015.17, a survey edition (stadsmonitor-2023) → its year. null: not a period we can place.
  function periodTime(text) {
    const s = String(text);
    let m = /^(\d{4})$/.exec(s);
    if (m) return Number(m[1]);
    if ((m = /^(\d{4})-Q([1-4])$/.exec(s))) return Number(m[1]) + (Number(m[2]) - 1) / 4;
    if ((m = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(s))) {
      return Number(m[1]) + (Number(m[2]) - 1) / 12 + (m[3] ? (Number(m[3]) - 1) / 365 : 0);
    }
    if ((m = /(\d{4})$/.exec(s))) return Number(m[1]);
    return null;
  }

  // Points in time order with a null point in every hole (a year without any observation), so
  // that a line breaks there instead of joining across it: the step is the smallest distance
  // between two periods of the series.
  function withGaps(points) {
    const timed = points.map((p) => Object.assign({}, p, { t: periodTime(p.period) }))
      .filter((p) => p.t !== null).sort((a, b) => a.t - b.t);
    const steps = timed.slice(1).map((p, i) => p.t - timed[i].t).filter((s) => s > 0);
    if (!steps.length) return timed;
    const step = Math.min(...steps);
    const out = [];
    timed.forEach((p, i) => {
      if (i && p.t - timed[i - 1].t > step * 1.5) out.push({ period: "", t: timed[i - 1].t + step, value: null, gap: true });
      out.push(p);
    });
    return out;
  }

  /* ---------------------------------------------------------------- sparklines */
  document.querySelectorAll(".spark[data-series]").forEach((el) => {
    const values = JSON.parse(el.dataset.series);
    // With its periods the line stands on a time axis (holes for missing years); without, evenly.
    const points = el.dataset.periods
      ? withGaps(values.map((v, i) => ({ period: JSON.parse(el.dataset.periods)[i], value: v })))
      : values.map((v, i) => ({ t: i, value: v }));
    const known = points.filter((p) => p.value !== null);
    if (known.length < 2) return;
    const w = 80, h = 20, min = Math.min(...known.map((p) => p.value)), max = Math.max(...known.map((p) => p.value));
    const first = points[0].t, last = points[points.length - 1].t;
    const x = (t) => (last === first ? w / 2 : ((t - first) * (w - 4)) / (last - first) + 2);
    const y = (v) => (max === min ? h / 2 : h - 2 - ((v - min) * (h - 4)) / (max - min));
    // Gaps stay gaps: a suppressed year or a year without data is not drawn as zero nor bridged.
    let path = "", pen = false;
    points.forEach((p) => {
      if (p.value === null) { pen = false; return; }
      path += (pen ? "L" : "M") + x(p.t).toFixed(1) + " " + y(p.value).toFixed(1);
      pen = true;
    });
    el.innerHTML = `<svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" focusable="false">` +
      `<path d="${path}" fill="none" stroke="currentColor" stroke-width="1.5"/></svg>`;
  });

  /* ---------------------------------------------------------------- charts */
  const vegaLocale = { number: { decimal: lang === "en" ? "." : ",", thousands: lang === "en" ? "," : ".",
                                 grouping: [3], currency: ["€", ""] } };

  function barSpec(rows, decimals, unit, title) {
    const data = rows.filter((r) => r.value !== null);
    return {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      // 14 px a bar, as a number: a step height ({step: 14}) beside width "container" makes
      // Vega-Lite warn on every page that it drops "fit-y".
      width: "container", height: Math.max(60, data.length * 14), autosize: { type: "fit-x", contains: "padding" },
      data: { values: data },
      params: [{ name: "sel", value: null }, { name: "hov", value: null }],
      mark: { type: "bar", cursor: "pointer" },
      encoding: {
        y: { field: "area_name", type: "nominal", sort: "-x", title: null, axis: { labelLimit: 140 } },
        x: { field: "value", type: "quantitative", title: title + (unit ? " (" + unit + ")" : "") },
        color: {
          condition: [{ test: "datum.area_code === sel", value: HIGHLIGHT },
                      { test: "datum.area_code === hov", value: "#7570b3" }],
          field: "colour", type: "nominal", scale: null,
        },
        stroke: { condition: { test: "datum.area_code === sel", value: "#000" }, value: null },
        tooltip: [{ field: "area_name", title: " " },
                  { field: "value", format: `,.${decimals}f`, title: unit || " " }],
      },
      config: { locale: vegaLocale },
    };
  }

  // A value as a reader says it: "21,3 %", "2.345 personen".
  function withUnit(value, decimals, unit) {
    if (value === null || value === undefined) return "";
    return fmt(value, decimals) + (unit ? (unit === "%" ? " %" : " " + unit) : "");
  }

  // The ranking: every published value with its rank (1 = highest; equal values share a rank).
  function ranked(rows) {
    const published = rows.filter((r) => r.value !== null && r.value !== undefined)
      .slice().sort((a, b) => b.value - a.value || a.area_name.localeCompare(b.area_name, locale));
    let rank = 0;
    return published.map((r, i) => {
      if (i === 0 || r.value !== published[i - 1].value) rank = i + 1;
      return Object.assign({}, r, { rank, total: published.length });
    });
  }

  // What the ranking chart shows: the top and bottom `n`, and the chosen areas in their place
  // between them, a gap marker (⋯) wherever areas are left out; everything when `full`.
  function rankingSlots(ranking, chosen, n, full) {
    const keep = ranking.map((r, i) => full || i < n || i >= ranking.length - n || chosen.includes(r.area_code));
    const slots = [];
    ranking.forEach((r, i) => {
      if (!keep[i]) return;
      if (slots.length && !keep[i - 1]) slots.push({ gap: true });
      slots.push(r);
    });
    return slots.map((s, i) => Object.assign(s, { slot: i }));
  }

  function rankingSpec(slots, d, reference) {
    const bars = slots.filter((s) => !s.gap).map((s) => Object.assign({}, s, {
      valueText: withUnit(s.value, d.decimals, d.unit),
      rankText: fill(ui.rankOf, { rank: ordinal(s.rank), total: s.total }) }));
    const labels = slots.map((s) => (s.gap ? "⋯" : `${s.rank}. ${s.area_name}`));
    const layers = [{
      data: { values: bars },
      mark: { type: "bar", cursor: "pointer" },
      encoding: {
        y: { field: "slot", type: "ordinal", title: null, scale: { domain: slots.map((s) => s.slot) },
             axis: { labelExpr: "slotLabels[datum.value]", labelLimit: 150, ticks: false } },
        x: { field: "value", type: "quantitative", title: d.name + (d.unit ? " (" + d.unit + ")" : "") },
        color: {
          condition: [{ test: "datum.area_code === sel", value: HIGHLIGHT },
                      { test: "datum.area_code === hov", value: "#7570b3" }],
          field: "colour", type: "nominal", scale: null,
        },
        stroke: { condition: { test: "datum.area_code === sel", value: "#000" }, value: null },
        tooltip: [{ field: "area_name", title: ui.area }, { field: "valueText", title: ui.value },
                  { field: "rankText", title: ui.rank }],
      },
    }];
    if (reference !== null && reference !== undefined) {
      const ref = [{ value: reference,
                     label: `${d.referenceName || ui.reference}: ${withUnit(reference, d.decimals, d.unit)}` }];
      layers.push({ data: { values: ref }, mark: { type: "rule", color: "#000", strokeDash: [4, 3], strokeWidth: 1.5 },
                    encoding: { x: { field: "value", type: "quantitative" },
                                tooltip: [{ field: "label", title: ui.reference }] } });
      // The label on the side of the line with room for it.
      const right = reference > 0.45 * Math.max(...bars.map((b) => b.value), reference);
      layers.push({ data: { values: ref }, mark: { type: "text", align: right ? "right" : "left", dx: right ? -3 : 3,
                                                   dy: -4, baseline: "bottom", fontSize: 10, y: 0 },
                    encoding: { x: { field: "value", type: "quantitative" }, text: { field: "label" } } });
    }
    return {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      width: "container", height: Math.max(60, slots.length * 16),
      autosize: { type: "fit-x", contains: "padding" },
      params: [{ name: "sel", value: null }, { name: "hov", value: null }, { name: "slotLabels", value: labels }],
      layer: layers,
      config: { locale: vegaLocale },
    };
  }

  // One line per area (or small multiples per indicator) on a time axis in years: a period
  // without data leaves a hole (the line breaks), suppressed values are holes too.
  function lineSpec(series, decimals, unit, facet, indicators) {
    const values = [];
    const about = indicators || {};
    series.forEach((s) => {
      const ind = about[s.indicator] || {};
      const places = ind.decimals !== undefined ? ind.decimals : decimals;
      withGaps(s.points).forEach((p) => values.push({
        area: s.area_name || s.area, indicator: ind.name || s.indicator_name || s.indicator, period: p.period,
        t: p.t, value: p.value, valueText: withUnit(p.value, places, ind.unit !== undefined ? ind.unit : unit) }));
    });
    const encoding = {
      x: { field: "t", type: "quantitative", title: null, scale: { zero: false, nice: false },
           axis: { format: "d", tickMinStep: 1, labelOverlap: true } },
      y: { field: "value", type: "quantitative", title: facet ? null : unit || null, scale: { zero: false } },
      color: { field: "area", type: "nominal", title: null, scale: { scheme: "dark2" } },
      tooltip: [{ field: "area", title: ui.area || " " }, { field: "period", title: ui.period || " " },
                { field: "valueText", title: ui.value || " " }],
    };
    const mark = { type: "line", point: true, invalid: "break-paths-show-domains" };
    const spec = { $schema: "https://vega.github.io/schema/vega-lite/v6.json", data: { values }, mark, encoding,
                   config: { locale: vegaLocale } };
    if (facet) {
      return { $schema: spec.$schema, data: spec.data, columns: 2,
        facet: { field: "indicator", type: "nominal", title: null, header: { labelLimit: 260, labelFontSize: 12 } },
        spec: { width: 260, height: 140, mark, encoding },
        resolve: { scale: { x: "independent", y: "independent" }, axis: { x: "independent" } },
        config: spec.config };
    }
    return Object.assign(spec, { width: "container", height: 220 });
  }

  /* ---------------------------------------------------------------- maps */
  // The city's base map under a map, when one is configured (static/basemap.js; none by default);
  // the areas are then a little more transparent so that it shows through.
  const baseMap = typeof window.obmiBaseMap === "function" ? window.obmiBaseMap : null;
  function layBaseMap(map) {
    if (baseMap) baseMap(map);
  }
  function areaOpacity(withoutBaseMap) {
    return baseMap && baseMap.fillOpacity ? baseMap.fillOpacity(withoutBaseMap) : withoutBaseMap;
  }

  function drawMap(element, geojsonUrl, rowsByCode, decimals, unit, onSelect, onHover, areaKeys) {
    // A map inside aria-hidden (a tile whose table says the same) must hold nothing focusable.
    const hidden = Boolean(element.closest("[aria-hidden=true]"));
    // With area keys the arrow keys move between areas (mapKeys), not the view.
    const map = L.map(element, { zoomSnap: 0.25, attributionControl: true, keyboard: !hidden && !areaKeys });
    if (hidden) element.querySelectorAll("a, button, [tabindex]").forEach((el) => el.setAttribute("tabindex", "-1"));
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Statbel · Provincies in Cijfers");
    layBaseMap(map);
    const layers = {};
    return fetch(geojsonUrl).then((r) => r.json()).then((geojson) => {
      const layer = L.geoJSON(geojson, {
        style: (f) => ({ fillColor: (rowsByCode[f.properties.code] || {}).colour || "#d9d9d9",
                         weight: 0.6, color: "#444", fillOpacity: areaOpacity(0.85) }),
        onEachFeature: (f, lyr) => {
          const code = f.properties.code;
          const row = rowsByCode[code] || { value: null, status: "missing" };
          layers[code] = lyr;
          lyr.bindTooltip(`${f.properties.name}: ${label(row, decimals, unit)}`, { sticky: true });
          if (onSelect) lyr.on("click", () => onSelect(code));
          if (onHover) {
            lyr.on("mouseover", () => onHover(code));
            lyr.on("mouseout", () => onHover(null));
          }
        },
      }).addTo(map);
      if (geojson.features.length) map.fitBounds(layer.getBounds());
      // The shapes are not tab stops (hundreds of them): the map itself is one, and says what
      // the arrow keys reach through its live region; the table holds the same figures.
      map.getPane("overlayPane").setAttribute("aria-hidden", "true");
      Object.entries(layers).forEach(([code, lyr]) => {
        const path = lyr.getElement && lyr.getElement();
        if (path) path.dataset.code = code;
      });
      return { map, layers };
    });
  }

  // Arrow keys on the map: from the current area to the nearest one in that direction (by the
  // centres of their shapes); Enter or Space chooses it; + and − zoom. `announce` says each step.
  function mapKeys(state, start, onMove, onChoose) {
    const el = state.map.getContainer();
    const centres = {};
    Object.entries(state.layers).forEach(([code, lyr]) => {
      centres[code] = state.map.project(lyr.getBounds().getCenter(), 0);
    });
    const directions = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowDown: [0, 1], ArrowUp: [0, -1] };
    let current = null;

    function nearestTo(point) {
      let best = null, bestDistance = Infinity;
      Object.entries(centres).forEach(([code, c]) => {
        const dist = c.distanceTo(point);
        if (dist < bestDistance) { best = code; bestDistance = dist; }
      });
      return best;
    }

    // The nearest area within 45° of the direction (straight ahead beats diagonal); if there is
    // none, the nearest one on that side at all.
    function step(code, [dx, dy]) {
      const from = centres[code];
      let best = null, bestScore = Infinity, wide = null, wideScore = Infinity;
      Object.entries(centres).forEach(([other, c]) => {
        if (other === code) return;
        const along = (c.x - from.x) * dx + (c.y - from.y) * dy;
        const across = Math.abs((c.x - from.x) * dy - (c.y - from.y) * dx);
        if (along <= 0) return;
        const score = along + 2 * across;
        if (across <= along && score < bestScore) { best = other; bestScore = score; }
        if (score < wideScore) { wide = other; wideScore = score; }
      });
      return best || wide;
    }

    function moveTo(code) {
      if (!code) return;
      current = code;
      const lyr = state.layers[code];
      state.map.panInside(lyr.getBounds().getCenter(), { padding: [30, 30] });
      onMove(code);
    }

    el.setAttribute("tabindex", "0");
    el.addEventListener("keydown", (e) => {
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      if (directions[e.key]) {
        e.preventDefault();
        const from = current || start();
        if (!current && from && state.layers[from]) moveTo(from);
        else moveTo(from ? step(from, directions[e.key]) || from : nearestTo(state.map.project(state.map.getCenter(), 0)));
      } else if ((e.key === "Enter" || e.key === " ") && (current || start())) {
        e.preventDefault();
        current = current || start();
        onChoose(current);
      } else if (e.key === "+" || e.key === "=") {
        e.preventDefault(); state.map.zoomIn();
      } else if (e.key === "-" || e.key === "_") {
        e.preventDefault(); state.map.zoomOut();
      } else if (e.key === "Escape") {
        current = null; onMove(null);
      }
    });
    el.addEventListener("blur", () => onMove(null, true));
  }

  // A table of areas is one tab stop: the arrow keys (and PageUp/Down, Home, End) move between
  // its rows, Enter or Space chooses; pointer and focus on a row highlight its area.
  // The two-indicator map (twomap.js) uses it too.
  function rowKeys(table, select, hover, setRovingRow) {
    table.addEventListener("keydown", (e) => {
      const tr = e.target.closest && e.target.closest("tbody tr");
      if (!tr) return;
      const all = Array.from(table.tBodies[0].rows);
      const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10 };
      let next = null;
      if (e.key in moves) next = all[Math.max(0, Math.min(all.length - 1, all.indexOf(tr) + moves[e.key]))];
      else if (e.key === "Home") next = all[0];
      else if (e.key === "End") next = all[all.length - 1];
      else if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(tr.dataset.code); return; }
      if (!next) return;
      e.preventDefault();
      setRovingRow(next.dataset.code);
      next.focus();
    });
    table.querySelectorAll("tbody tr").forEach((tr) => {
      tr.addEventListener("click", (e) => { if (e.target.tagName !== "A") select(tr.dataset.code); });
      tr.addEventListener("mouseenter", () => hover(tr.dataset.code));
      tr.addEventListener("mouseleave", () => hover(null));
      tr.addEventListener("focus", () => hover(tr.dataset.code));
      tr.addEventListener("blur", () => hover(null));
    });
  }
  window.obmiRowKeys = rowKeys;

  // The two-indicator map (twomap.js) moves over its areas the same way.
  window.obmiMapKeys = mapKeys;

  /* ---------------------------------------------------------------- the triptych */
  function statusHtml(row) {
    const [symbol, word] = signs[row.status] || signs.missing;
    return `<span class="status status-${row.status || "missing"}" title="${word}"><span aria-hidden="true">` +
      `${symbol}</span><span class="visually-hidden">${word}</span></span>`;
  }

  function triptych() {
    const root = document.getElementById("triptych");
    if (!root || !pageData.rows) return;
    const d = pageData;
    let rows = d.rows, period = d.period, reference = d.reference;
    let rowsByCode = Object.fromEntries(rows.map((r) => [r.area_code, r]));
    const table = document.getElementById("table");
    const live = document.getElementById("map-live");
    let chartView = null, mapState = null, selected = null, hovered = null, fullRanking = false;

    // An area without boundaries (e.g. "niet te lokaliseren") is not on the map: say so.
    function noteShape(code) {
      const note = document.getElementById("map-note");
      if (!note || !mapState) return;
      const missing = code && !mapState.layers[code];
      note.hidden = !missing;
      note.textContent = missing ? words.noShape((rowsByCode[code] || {}).area_name || code) : "";
    }

    function styleMap() {
      if (!mapState) return;
      Object.entries(mapState.layers).forEach(([c, lyr]) => {
        const on = c === selected, hov = c === hovered;
        lyr.setStyle({ weight: on ? 3 : hov ? 2.5 : 0.6, color: on ? "#000" : hov ? "#d95f02" : "#444",
                       dashArray: hov && !on ? "4 3" : null });
        const path = lyr.getElement && lyr.getElement();
        if (path) path.setAttribute("aria-pressed", on ? "true" : "false");
        if (on || hov) lyr.bringToFront();
      });
    }

    function hover(code) {
      hovered = code;
      table.querySelectorAll("tbody tr").forEach((tr) => tr.classList.toggle("hover", tr.dataset.code === code));
      styleMap();
      if (chartView) chartView.signal("hov", code).runAsync();
    }

    function rankOf(code) {
      return ranked(rows).find((r) => r.area_code === code);
    }

    // "Gent: 21,3 % (12e van 300)", for the map's live region.
    function describe(code) {
      const row = rowsByCode[code] || { value: null, status: "missing" };
      const name = row.area_name || (mapState && mapState.layers[code] ? mapState.layers[code].feature.properties.name : code);
      const r = rankOf(code);
      return `${name}: ${label(row, d.decimals, d.unit)}` + (r ? ` (${fill(ui.rankOf, { rank: ordinal(r.rank), total: r.total })})` : "");
    }

    function setRovingRow(code) {
      const rowsEls = Array.from(table.tBodies[0].rows);
      const target = rowsEls.find((tr) => tr.dataset.code === code) || rowsEls[0];
      rowsEls.forEach((tr) => tr.setAttribute("tabindex", tr === target ? "0" : "-1"));
    }

    function select(code, fromUrl) {
      selected = code;
      table.querySelectorAll("tbody tr").forEach((tr) => {
        const on = tr.dataset.code === code;
        tr.setAttribute("aria-selected", on ? "true" : "false");
        if (on && !fromUrl) tr.scrollIntoView({ block: "nearest" });
      });
      if (code) setRovingRow(code);
      styleMap();
      noteShape(code);
      drawRanking();
      const url = new URL(window.location.href);
      url.searchParams.delete("area");
      if (code) url.searchParams.set("area", code);
      history.replaceState(null, "", url);
      // The choice survives a change of level or period: the form carries it, also when the page
      // came without an area (then it has no field for it yet).
      document.querySelectorAll("form.controls[data-autosubmit]").forEach((form) => {
        form.querySelectorAll("input[name=area]").forEach((input, i) => { if (i || !code) input.remove(); });
        let input = form.querySelector("input[name=area]");
        if (!input && code) {
          input = Object.assign(document.createElement("input"), { type: "hidden", name: "area" });
          form.appendChild(input);
        }
        if (input) input.value = code;
      });
      showSheetLink(code);
      if (code) loadSeries(code);
    }

    // The chosen area's fact sheet: the table's name links are no tab stops, this one is.
    function showSheetLink(code) {
      const holder = document.getElementById("sheet-link");
      if (!holder) return;
      const row = rowsByCode[code];
      holder.hidden = !row;
      if (!row) return;
      const a = holder.querySelector("a");
      a.href = `/gebieden/${d.level}/${code}?lang=${lang}`;
      a.textContent = fill(ui.sheetOf, { name: row.area_name });
    }

    function loadSeries(code) {
      const params = new URLSearchParams({ indicator: d.indicator, area: `${d.level}:${code}`, ancestors: "true", lang });
      fetch(`/api/v1/series?${params}`).then((r) => r.json()).then(drawSeries);
    }

    function drawSeries(series) {
      const target = document.getElementById("series");
      target.innerHTML = "";
      const drawn = series && series.data.some((s) => s.points.some((p) => p.value !== null));
      if (!drawn) {
        const hint = document.createElement("p");
        hint.className = "hint";
        hint.textContent = words.noSeries((rowsByCode[selected] || {}).area_name || selected || "");
        target.appendChild(hint);
        return;
      }
      vegaEmbed(target, lineSpec(series.data, d.decimals, d.unit, false), vegaOptions);
    }

    const chartEl = document.getElementById("chart");
    const toggle = document.getElementById("ranking-toggle");
    let chartDrawn = Promise.resolve();
    function drawRanking() {
      if (!chartEl || d.chart === false) return chartDrawn;
      const ranking = ranked(rows);
      const slots = rankingSlots(ranking, selected ? [selected] : [], 10, fullRanking);
      if (toggle) toggle.hidden = ranking.length <= 20;
      chartEl.classList.toggle("full", fullRanking);
      const spec = rankingSpec(slots, d, reference);
      let scrolled = 0;
      // One drawing at a time, in order: a later selection never ends up under an earlier one.
      chartDrawn = chartDrawn.then(() => {
        scrolled = chartEl.scrollTop;  // drawing anew empties the scroll box for a moment
        if (chartView) chartView.finalize();
        chartView = null;
        return vegaEmbed(chartEl, spec, vegaOptions);
      }).then((result) => {
        chartView = result.view;
        chartView.addEventListener("click", (_, item) => item && item.datum && item.datum.area_code && select(item.datum.area_code));
        chartView.addEventListener("mouseover", (_, item) => item && item.datum && item.datum.area_code && hover(item.datum.area_code));
        chartView.addEventListener("mouseout", () => hover(null));
        return chartView.signal("sel", selected).signal("hov", hovered).runAsync();
      }).then(() => {
        if (!fullRanking) return;
        chartEl.scrollTop = scrolled;
        revealInRanking(slots.find((slot) => slot.area_code === selected));
      });
      return chartDrawn;
    }

    // The full ranking is a scroll box of its own: the chosen area's bar is scrolled into sight
    // there (centred when it was out of sight), without moving the page.
    function revealInRanking(slot) {
      const svg = chartEl.querySelector("svg");
      const y = chartView && slot ? chartView.scale("y") : null;
      if (!svg || !y || !y.bandwidth) return;
      const top = svg.getBoundingClientRect().top - chartEl.getBoundingClientRect().top - chartEl.clientTop +
        chartEl.scrollTop + chartView.origin()[1] + y(slot.slot);
      const height = y.bandwidth();
      if (top >= chartEl.scrollTop && top + height <= chartEl.scrollTop + chartEl.clientHeight) return;
      chartEl.scrollTop = Math.max(0, top - (chartEl.clientHeight - height) / 2);
    }

    if (toggle) toggle.addEventListener("click", () => {
      fullRanking = !fullRanking;
      toggle.setAttribute("aria-expanded", fullRanking ? "true" : "false");
      toggle.textContent = fullRanking ? ui.rankingShort : ui.rankingFull;
      // Focus stays on the button; it moves as the chart grows or shrinks, so keep it in sight.
      drawRanking().then(() => { if (document.activeElement === toggle) toggle.scrollIntoView({ block: "nearest" }); });
    });

    rowKeys(table, select, hover, setRovingRow);

    function onMapMove(code, leaving) {
      if (mapState && hovered && mapState.layers[hovered]) mapState.layers[hovered].closeTooltip();
      hover(code);
      if (code && mapState.layers[code]) mapState.layers[code].openTooltip(mapState.layers[code].getBounds().getCenter());
      if (live && !leaving) live.textContent = code ? describe(code) : "";
    }

    function onMapChoose(code) {
      select(code);
      if (live) live.textContent = fill(ui.chosen, { area: describe(code) });
    }

    /* ---- the period slider: another period without reloading the page */
    const API_LIMIT = 50000;  // the most rows one answer of /api/v1/observations holds
    const periodCache = { [d.period]: Promise.resolve(d.rows) };
    function observations(extra) {
      const params = new URLSearchParams(Object.assign({ indicator: d.indicator, level: d.level,
                                                         limit: String(API_LIMIT) }, extra));
      if (d.within) params.set("within", d.within);
      if (d.region) params.set("region", d.region);  // exactly the areas the page shows
      return fetch(`/api/v1/observations?${params}`).then((r) => {
        if (!r.ok) throw new Error(`${r.status}`);
        return r.json();
      });
    }
    function periodRows(p) {
      if (!periodCache[p]) {
        periodCache[p] = observations({ period: p }).then((body) => body.data, (error) => {
          delete periodCache[p];  // a failed period is asked again next time, not remembered as failed
          throw error;
        });
      }
      return periodCache[p];
    }

    // Every period at once, in one request, before the animation starts: a step then never waits
    // on the network (on a slow link the animation used to stall at each period). A level too
    // large for one answer is fetched period by period, all before the first step.
    let preloaded = null;
    function preloadPeriods(periods) {
      const missing = periods.filter((p) => !periodCache[p]);
      if (!missing.length) return Promise.resolve();
      if (!preloaded) {
        const whole = rows.length * periods.length <= API_LIMIT
          ? observations({}).then((body) => {
            if (body.count > body.data.length) throw new Error("more rows than one answer holds");
            const byPeriod = Object.fromEntries(missing.map((p) => [p, []]));
            body.data.forEach((r) => { if (byPeriod[r.period]) byPeriod[r.period].push(r); });
            Object.entries(byPeriod).forEach(([p, data]) => { periodCache[p] = Promise.resolve(data); });
          })
          : Promise.reject(new Error("more rows than one answer holds"));
        preloaded = whole.catch(() => Promise.all(missing.map(periodRows))).catch(() => { preloaded = null; });
      }
      return preloaded;
    }

    function colourOf(classes, value) {
      if (value === null || value === undefined || !classes) return "#d9d9d9";
      const i = classes.breaks.findIndex((b) => value <= b);
      return i >= 0 ? classes.colours[i] : classes.colours[classes.colours.length - 1] || "#d9d9d9";
    }

    function showPeriod(p) {
      return periodRows(p).then((data) => {
        const classes = (d.classesByPeriod || {})[p];
        period = p;
        rows = data.map((r) => Object.assign({}, r, { colour: colourOf(classes, r.value) }));
        rowsByCode = Object.fromEntries(rows.map((r) => [r.area_code, r]));
        reference = d.referenceByPeriod ? d.referenceByPeriod[p] : null;
        if (reference === undefined) reference = null;
        recolourMap();
        updateTable();
        updateLegend(classes);
        updatePeriodText(p);
        return drawRanking();
      });
    }

    function recolourMap() {
      if (!mapState) return;
      Object.entries(mapState.layers).forEach(([code, lyr]) => {
        const row = rowsByCode[code] || { value: null, status: "missing" };
        lyr.setStyle({ fillColor: row.colour || "#d9d9d9" });
        lyr.setTooltipContent(`${lyr.feature.properties.name}: ${label(row, d.decimals, d.unit)}`);
      });
      styleMap();
    }

    function updateTable() {
      Array.from(table.tBodies[0].rows).forEach((tr) => {
        const row = rowsByCode[tr.dataset.code] || { value: null, status: "missing" };
        const td = tr.cells[1];
        tr.dataset.value = row.value === null || row.value === undefined ? "" : String(row.value);
        td.innerHTML = row.value === null || row.value === undefined ? statusHtml(row)
          : fmt(row.value, d.decimals) + (d.unit === "%" ? "&nbsp;%" : "");
        const known = row.origin && document.getElementById(`origin-${row.origin}`);
        if (known) {
          td.dataset.origin = row.origin;
          td.dataset.originMarker = document.querySelector(`.origin-legend .origin-${row.origin}`).textContent;
          td.title = known.textContent;
          td.setAttribute("aria-describedby", `origin-${row.origin}`);
        } else {
          ["data-origin", "data-origin-marker", "title", "aria-describedby"].forEach((a) => td.removeAttribute(a));
        }
      });
      const sorted = table.querySelector("thead th[aria-sort]");
      if (sorted) sortRows(table, sorted.querySelector("button").dataset.sort, sorted.getAttribute("aria-sort") === "ascending");
    }

    function updateLegend(classes) {
      const legend = root.querySelector(".legend");
      if (!legend || !classes) return;
      legend.querySelectorAll("li.class").forEach((li) => li.remove());
      const first = legend.firstElementChild;
      classes.colours.forEach((colour, i) => {
        const li = document.createElement("li");
        li.className = "class";
        li.innerHTML = `<span class="swatch" style="background: ${colour}"></span>` +
          `${fmt(i ? classes.breaks[i - 1] : classes.lower, d.decimals)} – ${fmt(classes.breaks[i], d.decimals)}`;
        legend.insertBefore(li, first);
      });
      // The first reference follows the period; the values of further ones are known for the
      // page's own period only, so they are not shown for another.
      legend.querySelectorAll(".reference").forEach((ref, i) => {
        if (i) { ref.hidden = period !== d.period; return; }
        ref.hidden = reference === null;
        ref.textContent = `${d.referenceName || ui.reference}: ${fmt(reference, d.decimals)}`;
      });
    }

    function updatePeriodText(p) {
      root.querySelectorAll("[data-period-text]").forEach((el) => (el.textContent = p));
      const mapEl = document.getElementById("map");
      if (mapEl) mapEl.setAttribute("aria-label", fill(ui.mapLabel, { period: p }));
      const select = document.getElementById("period");
      if (select) select.value = p;
      const url = new URL(window.location.href);
      url.searchParams.set("period", p);
      history.replaceState(null, "", url);
      // Downloads and the API link give exactly what is shown: this period.
      document.querySelectorAll("#triptych .downloads a, .meta a[href^='/api/v1/observations']").forEach((a) => {
        const link = new URL(a.getAttribute("href"), window.location.origin);
        link.searchParams.set("period", p);
        a.setAttribute("href", link.pathname + link.search);
      });
    }

    const STEP_MS = 1200;  // how long the animation shows each period
    function slider() {
      const input = document.getElementById("period-slider");
      const holder = document.getElementById("period-slider-box");
      const periods = d.periods || [];
      if (!input || !holder || periods.length < 2 || !d.classesByPeriod) return;
      holder.hidden = false;
      const output = document.getElementById("period-output");
      const play = document.getElementById("period-play");
      const status = document.getElementById("period-status");
      let timer = null;
      function place(i) {
        input.value = String(i);
        input.setAttribute("aria-valuetext", periods[i]);
        output.textContent = periods[i];
      }
      function show(i) {
        place(i);
        return showPeriod(periods[i]).catch(() => { if (status) status.textContent = ui.periodFailed; });
      }
      function stop() {
        if (timer) clearTimeout(timer);
        timer = null;
        play.setAttribute("aria-pressed", "false");
        play.textContent = ui.play;
        root.dataset.playing = "false";
      }
      function later() {
        if (timer !== null) timer = setTimeout(next, STEP_MS);
      }
      function next() {
        const i = Number(input.value) + 1;
        if (i >= periods.length) { stop(); return; }
        show(i).then(later);
      }
      input.addEventListener("input", () => { stop(); show(Number(input.value)); });
      let run = 0;  // a pause, then play again while the periods still load: only the last play runs
      play.addEventListener("click", () => {
        if (timer !== null) { stop(); return; }
        play.setAttribute("aria-pressed", "true");
        play.textContent = ui.pause;
        root.dataset.playing = "true";
        timer = 0;  // playing; the first step waits for the periods
        const mine = ++run;
        if (status) status.textContent = ui.periodsLoading || "";
        preloadPeriods(periods).then(() => {
          if (mine !== run || timer === null) return;
          if (status) status.textContent = "";
          if (Number(input.value) >= periods.length - 1) show(0).then(later);
          else next();
        });
      });
      input.max = String(periods.length - 1);
      place(Math.max(0, periods.indexOf(period)));
    }

    // No chart or map element (nothing published, or a level without boundaries): nothing drawn.
    const chartReady = drawRanking();
    const mapEl = document.getElementById("map");
    const mapReady = mapEl && d.geojson
      ? drawMap(mapEl, d.geojson, rowsByCode, d.decimals, d.unit, select, hover, true).then((state) => {
        mapState = state;
        mapKeys(state, () => selected && state.layers[selected] ? selected : null, onMapMove, onMapChoose);
      })
      : Promise.resolve();
    Promise.all([chartReady, mapReady]).then(() => {
      setRovingRow(d.selected && d.selected.length ? d.selected[0] : null);
      if (d.selected && d.selected.length) select(d.selected[0], true);
      if (d.series) drawSeries(d.series);
      slider();
      return chartDrawn;
    }).then(() => { root.dataset.ready = "true"; });
  }

  /* ---------------------------------------------------------------- compare: small multiples */
  function multiples() {
    const el = document.getElementById("multiples");
    if (!el || !pageData.data) return;
    const spec = lineSpec(pageData.data, 1, "", true, pageData.indicators);
    if (el.clientWidth < 640) {  // a phone: one chart a row, as wide as the screen, the legend below
      spec.columns = 1;
      spec.spec.width = Math.max(180, el.clientWidth - 70);
      spec.spec.encoding = Object.assign({}, spec.spec.encoding, { color: Object.assign({}, spec.spec.encoding.color,
        { legend: { orient: "bottom", direction: "vertical" } }) });
    }
    vegaEmbed(el, spec, vegaOptions);
  }

  /* ---------------------------------------------------------------- dashboard and story tiles */
  function tiles() {
    if (!pageData.tiles) return;
    document.querySelectorAll("[data-tile]").forEach((el) => {
      const t = pageData.tiles[Number(el.dataset.tile)];
      if (!t) return;
      const ind = (t.indicators || [])[0] || { decimals: 0, unit: "" };
      // A key figure is written by the server (with its unit); line, bar and map are drawn here.
      if (t.type === "line") {
        vegaEmbed(el, lineSpec(t.series.map((s) => Object.assign({}, s, { area_name: s.area })),
                               ind.decimals, ind.unit, false), vegaOptions);
      } else if (t.type === "bar") {
        const rows = t.rows.map((r) => ({ area_code: r.code, area_name: r.name, value: r.value,
                                          colour: r.code === t.highlight ? HIGHLIGHT : "#6baed6" }));
        vegaEmbed(el, barSpec(rows, ind.decimals, ind.unit, ind.name), vegaOptions);
      } else if (t.type === "map") {
        el.classList.add("map");
        // Coloured by the server's classes, the same as the legend beside the map.
        const byCode = Object.fromEntries(t.rows.map((r) => [r.code, r]));
        drawMap(el, t.geojson, byCode, ind.decimals, ind.unit, null, null).then(({ layers }) => {
          const chosen = layers[t.highlight];  // the chosen area (or the one it lies in), outlined
          if (chosen) chosen.setStyle({ weight: 2.5, color: "#000" }).bringToFront();
        });
      }
    });
  }

  /* ---------------------------------------------------------------- fact sheet: locator map */
  // The area among its neighbours (those of its province; its municipality's wijken), as the
  // PDF draws it. Decorative beside the page's words (aria-hidden): a neighbour's shape links to
  // its fact sheet for the mouse; the lists and breadcrumbs do so for everyone.
  function locatorMap() {
    const el = document.getElementById("locator");
    const loc = pageData.locator;
    if (!el || !loc || typeof L === "undefined") return;
    const map = L.map(el, { zoomSnap: 0.25, keyboard: false, scrollWheelZoom: false, zoomControl: false });
    el.querySelectorAll("a, button, [tabindex]").forEach((n) => n.setAttribute("tabindex", "-1"));
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Statbel · Provincies in Cijfers");
    layBaseMap(map);
    fetch(loc.geojson).then((r) => r.json()).then((geojson) => {
      let own = null;
      const layer = L.geoJSON(geojson, {
        style: (f) => (f.properties.code === loc.code
          ? { fillColor: HIGHLIGHT, color: "#000", weight: 2, fillOpacity: areaOpacity(0.9) }
          : { fillColor: "#d9d9d9", color: "#666", weight: 0.6, fillOpacity: areaOpacity(0.7) }),
        onEachFeature: (f, lyr) => {
          lyr.bindTooltip(f.properties.name, { sticky: true });
          if (f.properties.code === loc.code) { own = lyr; return; }
          lyr.on("click", () => {
            window.location.href = `/gebieden/${loc.level}/${encodeURIComponent(f.properties.code)}?lang=${lang}`;
          });
        },
      }).addTo(map);
      map.getPane("overlayPane").setAttribute("aria-hidden", "true");
      if (geojson.features.length) map.fitBounds(layer.getBounds());
      if (own) own.bringToFront();
      else el.closest("figure").hidden = true;  // an area without a shape of its own: nothing to locate
      el.dataset.ready = "true";
    });
  }

  triptych();
  multiples();
  tiles();
  locatorMap();
})();
