/* The optional base map under OBMi's maps (OBMI_BASEMAP_URL, e.g. the Flemish GRB): the server
   writes it on <body data-basemap> only when a city configured one, so by default no map asks
   anything of another site. Every map calls window.obmiBaseMap(map) once it is made; without a
   base map that does nothing. */
(function () {
  "use strict";

  const config = (() => {
    const raw = document.body ? document.body.dataset.basemap : "";
    if (!raw) return null;
    try {
      const parsed = JSON.parse(raw);
      return parsed && parsed.url ? parsed : null;
    } catch (e) {
      return null;
    }
  })();

  // The credit is plain text from the settings: Leaflet writes attributions as HTML.
  function asHtml(text) {
    const span = document.createElement("span");
    span.textContent = text || "";
    return span.innerHTML;
  }

  // Adds the base map to `map` under its areas (the tile pane lies below the overlay pane) with
  // its credit in the map's attribution; returns the tile layer, or null without a base map.
  function obmiBaseMap(map) {
    if (!config || !map || typeof L === "undefined") return null;
    return L.tileLayer(config.url, {
      attribution: asHtml(config.attribution),
      opacity: typeof config.opacity === "number" ? config.opacity : 1,
      pane: "tilePane",
      maxZoom: 20,
    }).addTo(map);
  }

  // On a base map the areas are drawn a little more transparent, so that streets show through.
  obmiBaseMap.enabled = Boolean(config);
  obmiBaseMap.fillOpacity = (withoutBaseMap) => (config ? Math.round(withoutBaseMap * 75) / 100 : withoutBaseMap);
  window.obmiBaseMap = obmiBaseMap;
})();
