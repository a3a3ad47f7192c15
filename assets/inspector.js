// The candidate inspector, opened in the browser: a click on a point of the steering space
// (or "inspect" on a card, judging.js) shows the panel with the candidate's image at once,
// and names the candidate in the store from which the server fills in the details.
//
// The clicked point is found here, not by Plotly's click event: Plotly decides what is
// under the pointer at most once every 50 ms and then re-renders the graph's Dash
// component with `clickData`, which cost 50-200 ms between the press and the panel.
(function () {
  "use strict";
  // Component ids come from dashboard/ids.py, which the page renders as window.STEER_IDS.
  const IDS = window.STEER_IDS;
  const PLOT = "#" + IDS.SPACE + " .js-plotly-plot";
  // How far (in pixels) from a point's centre a click still picks it.
  const PICK_RADIUS = 12;
  // A press and release further apart than this is a pan or a zoom box, not a click.
  const DRAG_SLOP = 4;

  window.openInspector = function (id) {
    const set = window.dash_clientside && window.dash_clientside.set_props;
    if (!set) return;
    set(IDS.INSPECTOR_IMAGE, {src: `/api/candidates/${id}/image`});
    // The previous candidate's details go: the panel opens with the image alone.
    set(IDS.INSPECTOR_BODY, {children: null});
    // The title ("Candidate 3 of round 4") comes with the details, from the server.
    set(IDS.INSPECTOR, {is_open: true, title: "Candidate"});
    set(IDS.INSPECTED, {data: {candidate_id: id, at: Date.now()}});
  };

  function candidateId(data) {
    // A candidate's customdata is its id; a step of the incumbent path's is [id, round].
    const id = Number(Array.isArray(data) ? data[0] : data);
    return Number.isFinite(id) ? id : null;
  }

  // The candidate whose marker is nearest to a page position, measured from the marker's
  // edge (so a large point of the open session wins over the small context points of other
  // sessions beneath it), within PICK_RADIUS of its centre; a later one (drawn on top) wins
  // a tie.
  function pick(graph, clientX, clientY) {
    const layout = graph._fullLayout;
    const area = graph.querySelector(".nsewdrag");
    if (!layout || !graph._fullData || !area) return null;
    const box = area.getBoundingClientRect();
    const px = clientX - box.left;
    const py = clientY - box.top;
    const xaxis = layout.xaxis;
    const yaxis = layout.yaxis;
    let best = null;
    let bestGap = Infinity;
    for (const trace of graph._fullData) {
      if (trace.visible !== true || !trace.customdata || !trace.x) continue;
      const size = trace.marker && trace.marker.size;
      for (let j = 0; j < trace.x.length; j++) {
        const dx = xaxis.l2p(trace.x[j]) - px;
        const dy = yaxis.l2p(trace.y[j]) - py;
        const distance = Math.sqrt(dx * dx + dy * dy);
        if (distance > PICK_RADIUS) continue;
        const radius = (size && size.length ? size[j] : size || 0) / 2;
        const gap = distance - radius;
        if (gap <= bestGap) {
          const id = candidateId(trace.customdata[j]);
          if (id !== null) {
            best = id;
            bestGap = gap;
          }
        }
      }
    }
    return best;
  }

  function plotArea(event) {
    const target = event.target;
    if (!target.closest || !target.closest("#" + IDS.SPACE + " .nsewdrag")) return null;
    return target.closest(PLOT);
  }

  let pressed = null;
  // Pointer events, not mouse events: their positions keep fractions of a pixel, which
  // matters among 60,000 points. Capture phase: Plotly's drag handling comes after.
  document.addEventListener(
    "pointerdown",
    (event) => {
      pressed = event.button === 0 && plotArea(event) ? {x: event.clientX, y: event.clientY} : null;
    },
    true,
  );
  document.addEventListener(
    "pointerup",
    (event) => {
      const start = pressed;
      pressed = null;
      if (!start || event.button !== 0) return;
      if (Math.abs(event.clientX - start.x) + Math.abs(event.clientY - start.y) > DRAG_SLOP) return;
      const graph = document.querySelector(PLOT);
      const id = graph && pick(graph, event.clientX, event.clientY);
      if (id !== null && id !== undefined) window.openInspector(id);
    },
    true,
  );

  // While the pointer rests on a point, its candidate's image shows beside the pointer (a
  // thumbnail loaded from its URL: the figure carries no images), and stays in the
  // browser's cache, so that a click opens the inspector with the image already there.
  // How far from the pointer the thumbnail sits, in pixels.
  const HOVER_OFFSET = 14;
  function showThumbnail(event) {
    const point = event && event.points && event.points[0];
    const id = point && candidateId(point.customdata);
    const thumbnail = document.getElementById(IDS.SPACE_HOVER);
    const mouse = event && event.event;
    if (id === null || id === undefined || !thumbnail || !mouse) return;
    const src = `/api/candidates/${id}/image`;
    if (!thumbnail.src.endsWith(src)) thumbnail.src = src;
    thumbnail.dataset.candidate = String(id);
    // Placed in its panel's coordinates, on the side of the pointer with room for it.
    const panel = thumbnail.offsetParent || thumbnail.parentElement;
    const box = panel.getBoundingClientRect();
    const size = thumbnail.offsetWidth || 112;
    let left = mouse.clientX - box.left + HOVER_OFFSET;
    let top = mouse.clientY - box.top + HOVER_OFFSET;
    if (left + size > box.width) left = mouse.clientX - box.left - HOVER_OFFSET - size;
    if (top + size > box.height) top = mouse.clientY - box.top - HOVER_OFFSET - size;
    thumbnail.style.left = `${Math.max(0, left)}px`;
    thumbnail.style.top = `${Math.max(0, top)}px`;
    thumbnail.classList.add("shown");
  }
  function hideThumbnail() {
    const thumbnail = document.getElementById(IDS.SPACE_HOVER);
    if (thumbnail) thumbnail.classList.remove("shown");
  }
  // A press (a click that opens the inspector, a zoom, a lasso) puts the thumbnail away.
  document.addEventListener("pointerdown", hideThumbnail, true);
  // The graph is drawn (and drawn again on another page) by Dash after this script runs:
  // attach when the pointer first comes over it, not on every change to the page.
  document.addEventListener("mouseover", (event) => {
    const graph = event.target.closest && event.target.closest(PLOT);
    if (graph && graph.on && !graph.dataset.hovering) {
      graph.dataset.hovering = "1";
      graph.on("plotly_hover", showThumbnail);
      graph.on("plotly_unhover", hideThumbnail);
    }
  });
})();
