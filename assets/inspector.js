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
  // The graph is drawn (and drawn again on another page) by Dash after this script runs:
  // attach when the pointer first comes over it, not on every change to the page.
  document.addEventListener("mouseover", (event) => {
    const graph = event.target.closest && event.target.closest("#space-graph .js-plotly-plot");
    if (graph && graph.on && !graph.dataset.prefetching) {
      graph.dataset.prefetching = "1";
      graph.on("plotly_hover", prefetch);
    }
  });
})();
