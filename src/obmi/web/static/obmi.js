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
  const HIGHLIGHT = "#d95f02";
  const vegaOptions = { actions: false, renderer: "svg" };

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
  document.querySelectorAll("form[data-autosubmit] select").forEach((select) =>
    select.addEventListener("change", () => {
      // Another level has its own periods: let the server take that level's latest one rather
      // than ask for this period there (which may have no data).
      if (select.name === "level") select.form.querySelectorAll("select[name=period]").forEach((p) => (p.disabled = true));
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
  document.querySelectorAll("table.sortable").forEach((table) => {
    table.querySelectorAll("th button[data-sort]").forEach((button) => {
      button.addEventListener("click", () => {
        const th = button.closest("th");
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        table.querySelectorAll("thead th").forEach((h) => h.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const body = table.tBodies[0];
        const rows = Array.from(body.rows);
        const key = button.dataset.sort;
        rows.sort((a, b) => {
          let x, y;
          if (key === "value") {
            x = a.dataset.value === "" ? -Infinity : parseFloat(a.dataset.value);
            y = b.dataset.value === "" ? -Infinity : parseFloat(b.dataset.value);
          } else {
            x = a.cells[0].textContent.trim();
            y = b.cells[0].textContent.trim();
            return ascending ? x.localeCompare(y, locale) : y.localeCompare(x, locale);
          }
          return ascending ? x - y : y - x;
        });
        rows.forEach((row) => body.appendChild(row));
      });
    });
  });

  /* ---------------------------------------------------------------- sparklines */
  document.querySelectorAll(".spark[data-series]").forEach((el) => {
    const values = JSON.parse(el.dataset.series);
    const known = values.filter((v) => v !== null);
    if (known.length < 2) return;
    const w = 80, h = 20, min = Math.min(...known), max = Math.max(...known);
    const x = (i) => (values.length === 1 ? w / 2 : (i * (w - 4)) / (values.length - 1) + 2);
    const y = (v) => (max === min ? h / 2 : h - 2 - ((v - min) * (h - 4)) / (max - min));
    // Gaps stay gaps: a suppressed year is not drawn as zero.
    let path = "", pen = false;
    values.forEach((v, i) => {
      if (v === null) { pen = false; return; }
      path += (pen ? "L" : "M") + x(i).toFixed(1) + " " + y(v).toFixed(1);
      pen = true;
    });
    el.innerHTML = `<svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" focusable="false">` +
      `<path d="${path}" fill="none" stroke="currentColor" stroke-width="1.5"/></svg>`;
  });

  /* ---------------------------------------------------------------- charts */
  function barSpec(rows, decimals, unit, title) {
    const data = rows.filter((r) => r.value !== null);
    return {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      width: "container", height: { step: 14 },
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
      config: { locale: { number: { decimal: lang === "en" ? "." : ",", thousands: lang === "en" ? "," : ".",
                                    grouping: [3], currency: ["€", ""] } } },
    };
  }

  function lineSpec(series, decimals, unit, facet) {
    const values = [];
    series.forEach((s) => s.points.forEach((p) => {
      if (p.value !== null) values.push({ area: s.area_name || s.area, indicator: s.indicator_name || s.indicator,
                                          period: p.period, value: p.value });
    }));
    const spec = {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      data: { values },
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "period", type: "ordinal", title: null },
        y: { field: "value", type: "quantitative", title: unit || null, scale: { zero: false } },
        color: { field: "area", type: "nominal", title: null, scale: { scheme: "dark2" } },
        tooltip: [{ field: "area" }, { field: "period" }, { field: "value", format: `,.${decimals}f` }],
      },
      config: { locale: { number: { decimal: lang === "en" ? "." : ",", thousands: lang === "en" ? "," : ".",
                                    grouping: [3], currency: ["€", ""] } } },
    };
    if (facet) {
      return { $schema: spec.$schema, data: spec.data, columns: 2,
        facet: { field: "indicator", type: "nominal", title: null },
        spec: { width: 260, height: 140, mark: spec.mark, encoding: spec.encoding },
        resolve: { scale: { y: "independent" } }, config: spec.config };
    }
    return Object.assign(spec, { width: "container", height: 220 });
  }

  /* ---------------------------------------------------------------- maps */
  function drawMap(element, geojsonUrl, rowsByCode, decimals, unit, onSelect, onHover) {
    // A map inside aria-hidden (a tile whose table says the same) must hold nothing focusable.
    const hidden = Boolean(element.closest("[aria-hidden=true]"));
    const map = L.map(element, { zoomSnap: 0.25, attributionControl: true, keyboard: !hidden });
    if (hidden) element.querySelectorAll("a, button, [tabindex]").forEach((el) => el.setAttribute("tabindex", "-1"));
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Statbel · Provincies in Cijfers");
    const layers = {};
    return fetch(geojsonUrl).then((r) => r.json()).then((geojson) => {
      const layer = L.geoJSON(geojson, {
        style: (f) => ({ fillColor: (rowsByCode[f.properties.code] || {}).colour || "#d9d9d9",
                         weight: 0.6, color: "#444", fillOpacity: 0.85 }),
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
      // Each area is reachable with the keyboard: Tab to it, Enter or Space selects it.
      if (!hidden) Object.entries(layers).forEach(([code, lyr]) => {
        const path = lyr.getElement && lyr.getElement();
        if (!path) return;
        const row = rowsByCode[code] || { value: null, status: "missing" };
        path.setAttribute("tabindex", "0");
        path.setAttribute("role", "button");
        path.setAttribute("aria-label", `${lyr.feature.properties.name}: ${label(row, decimals, unit)}`);
        path.dataset.code = code;
        if (onSelect) path.addEventListener("keydown", (e) => {
          if (e.key === "Enter" || e.key === " ") { e.preventDefault(); onSelect(code); }
        });
      });
      return { map, layers };
    });
  }

  /* ---------------------------------------------------------------- the triptych */
  function triptych() {
    const root = document.getElementById("triptych");
    if (!root || !pageData.rows) return;
    const d = pageData;
    const rowsByCode = Object.fromEntries(d.rows.map((r) => [r.area_code, r]));
    const table = document.getElementById("table");
    let chartView = null, mapState = null, selected = null;

    // An area without boundaries (e.g. "niet te lokaliseren") is not on the map: say so.
    function noteShape(code) {
      const note = document.getElementById("map-note");
      if (!note || !mapState) return;
      const missing = code && !mapState.layers[code];
      note.hidden = !missing;
      note.textContent = missing ? words.noShape((rowsByCode[code] || {}).area_name || code) : "";
    }

    function styleMap(code, hovered) {
      if (!mapState) return;
      Object.entries(mapState.layers).forEach(([c, lyr]) => {
        const on = c === selected, hov = c === hovered;
        lyr.setStyle({ weight: on ? 3 : hov ? 2 : 0.6, color: on ? "#000" : hov ? "#333" : "#444" });
        const path = lyr.getElement && lyr.getElement();
        if (path) path.setAttribute("aria-pressed", on ? "true" : "false");
        if (on) lyr.bringToFront();
      });
    }

    function hover(code) {
      table.querySelectorAll("tbody tr").forEach((tr) => tr.classList.toggle("hover", tr.dataset.code === code));
      styleMap(selected, code);
      if (chartView) chartView.signal("hov", code).runAsync();
    }

    function select(code, fromUrl) {
      selected = code;
      table.querySelectorAll("tbody tr").forEach((tr) => {
        const on = tr.dataset.code === code;
        tr.setAttribute("aria-selected", on ? "true" : "false");
        if (on && !fromUrl) tr.scrollIntoView({ block: "nearest" });
      });
      styleMap(code);
      noteShape(code);
      if (chartView) chartView.signal("sel", code).runAsync();
      const url = new URL(window.location.href);
      url.searchParams.delete("area");
      if (code) url.searchParams.set("area", code);
      history.replaceState(null, "", url);
      document.querySelectorAll("form.controls input[name=area]").forEach((i) => (i.value = code || ""));
      if (code) loadSeries(code);
    }

    function loadSeries(code) {
      const params = new URLSearchParams({ indicator: d.indicator, area: `${d.level}:${code}`, ancestors: "true" });
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

    table.querySelectorAll("tbody tr").forEach((tr) => {
      tr.addEventListener("click", (e) => { if (e.target.tagName !== "A") select(tr.dataset.code); });
      tr.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(tr.dataset.code); }
      });
      tr.addEventListener("mouseenter", () => hover(tr.dataset.code));
      tr.addEventListener("mouseleave", () => hover(null));
    });

    // No chart or map element (nothing published, or a level without boundaries): nothing drawn.
    const chartEl = document.getElementById("chart");
    const chartReady = chartEl && d.chart !== false
      ? vegaEmbed(chartEl, barSpec(d.rows, d.decimals, d.unit, d.name), vegaOptions).then((result) => {
        chartView = result.view;
        chartView.addEventListener("click", (_, item) => item && item.datum && select(item.datum.area_code));
        chartView.addEventListener("mouseover", (_, item) => item && item.datum && hover(item.datum.area_code));
      })
      : Promise.resolve();
    const mapEl = document.getElementById("map");
    const mapReady = mapEl && d.geojson
      ? drawMap(mapEl, d.geojson, rowsByCode, d.decimals, d.unit, select, hover).then((state) => { mapState = state; })
      : Promise.resolve();
    Promise.all([chartReady, mapReady]).then(() => {
      if (d.selected && d.selected.length) select(d.selected[0], true);
      if (d.series) drawSeries(d.series);
      root.dataset.ready = "true";
    });
  }

  /* ---------------------------------------------------------------- compare: small multiples */
  function multiples() {
    const el = document.getElementById("multiples");
    if (!el || !pageData.data) return;
    vegaEmbed(el, lineSpec(pageData.data, 1, "", true), vegaOptions);
  }

  /* ---------------------------------------------------------------- dashboard and story tiles */
  function tiles() {
    if (!pageData.tiles) return;
    document.querySelectorAll("[data-tile]").forEach((el) => {
      const t = pageData.tiles[Number(el.dataset.tile)];
      if (!t) return;
      const ind = (t.indicators || [])[0] || { decimals: 0, unit: "" };
      if (t.type === "keyfigure") {
        const s = (t.series || [])[0];
        const last = s && s.points.length ? s.points[s.points.length - 1] : null;
        el.innerHTML = last ? `<p class="big">${label(last, ind.decimals, ind.unit)}</p><p class="small">${s.area}, ${last.period}</p>` : "";
      } else if (t.type === "line") {
        vegaEmbed(el, lineSpec(t.series.map((s) => Object.assign({}, s, { area_name: s.area })),
                               ind.decimals, ind.unit, false), vegaOptions);
      } else if (t.type === "bar") {
        const rows = t.rows.map((r) => ({ area_code: r.code, area_name: r.name, value: r.value,
                                          colour: r.code === t.highlight ? HIGHLIGHT : "#6baed6" }));
        vegaEmbed(el, barSpec(rows, ind.decimals, ind.unit, ind.name), vegaOptions);
      } else if (t.type === "map") {
        el.classList.add("map");
        const values = t.rows.map((r) => r.value).filter((v) => v !== null).sort((a, b) => a - b);
        const q = (p) => values[Math.min(values.length - 1, Math.floor(p * values.length))];
        const breaks = [q(0.2), q(0.4), q(0.6), q(0.8), Infinity];
        const colours = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"];
        const byCode = Object.fromEntries(t.rows.map((r) => [r.code, Object.assign({}, r, {
          colour: r.value === null ? "#d9d9d9" : colours[breaks.findIndex((b) => r.value <= b)] })]));
        drawMap(el, t.geojson, byCode, ind.decimals, ind.unit, null, null);
      }
    });
  }

  triptych();
  multiples();
  tiles();
})();
