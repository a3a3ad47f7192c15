// Fetch a candidate's image while the pointer rests on its point in the steering space, so
// that a click opens the inspector with the image already in the browser's cache.
(function () {
  "use strict";
  const fetched = new Set();
  function prefetch(event) {
    const point = event && event.points && event.points[0];
    const data = point && point.customdata;
    const id = Number(Array.isArray(data) ? data[0] : data);
    if (!Number.isFinite(id) || fetched.has(id)) return;
    fetched.add(id);
    new Image().src = `/api/candidates/${id}/image`;
  }
  function attach() {
    const graph = document.querySelector("#space-graph .js-plotly-plot");
    if (graph && graph.on && !graph.dataset.prefetching) {
      graph.dataset.prefetching = "1";
      graph.on("plotly_hover", prefetch);
    }
  }
  // The graph is drawn (and re-drawn on another page) by Dash after this script runs.
  new MutationObserver(attach).observe(document.documentElement, {childList: true, subtree: true});
})();
