/* Charts of the follow-up pages: vendored Vega-Lite draws the specs in #plan-charts into their
   [data-plan-chart] boxes. The tables next to them hold the same figures: without JavaScript
   nothing is missing. A file, not an inline script: the Content-Security-Policy runs scripts from
   this site only; Vega's expression interpreter (ast) and no injected <style> for the same reason. */
(function () {
  "use strict";
  var source = document.getElementById("plan-charts");
  var root = document.documentElement;
  if (!source || typeof vegaEmbed !== "function") { root.dataset.planCharts = "none"; return; }
  var specs = JSON.parse(source.textContent);
  var dutch = (root.lang || "nl") !== "en";
  var locale = { number: { decimal: dutch ? "," : ".", thousands: dutch ? "." : ",", grouping: [3], currency: ["€ ", ""] } };
  var options = { actions: false, renderer: "svg", ast: true, defaultStyle: false, tooltip: { disableDefaultStyle: true } };
  var drawn = [];
  document.querySelectorAll("[data-plan-chart]").forEach(function (box) {
    var spec = specs[box.dataset.planChart];
    if (!spec) return;
    spec.config = Object.assign({ locale: locale }, spec.config || {});
    drawn.push(vegaEmbed(box, spec, options).then(function () {
      box.classList.add("drawn");
    }));
  });
  Promise.all(drawn).then(function () { root.dataset.planCharts = "ready"; },
                          function () { root.dataset.planCharts = "failed"; });
})();
