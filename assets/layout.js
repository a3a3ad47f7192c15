// The steering page's arrangement on one screen: fold the setup, expand the plots (button or
// p, a key of judging.js's table; Esc or p again closes), and bring the grid's top into view on every new round.
(function () {
  "use strict";
  const IDS = window.STEER_IDS;

  function typing(element) {
    return element && (element.isContentEditable ||
      ["INPUT", "TEXTAREA", "SELECT"].includes(element.tagName));
  }

  function setExpanded(expanded) {
    const plots = document.getElementById(IDS.PLOTS);
    if (!plots) return;
    plots.classList.toggle("expanded", expanded);
    const button = document.getElementById(IDS.EXPAND_PLOTS);
    if (button) button.textContent = expanded ? "Close ✕ (p or Esc)" : "Expand ⤢ (p)";
  }
  // judging.js's "plots" key (p) opens them; while they are open, the keys below close them.
  window.togglePlots = () => setExpanded(!expanded());
  function expanded() {
    const plots = document.getElementById(IDS.PLOTS);
    return Boolean(plots && plots.classList.contains("expanded"));
  }

  document.addEventListener("click", (event) => {
    const control = event.target.closest("[data-layout]");
    if (!control) return;
    if (control.dataset.layout === "toggle-plots") setExpanded(!expanded());
    else if (control.dataset.layout === "toggle-setup") {
      const layout = document.getElementById(IDS.STEER_LAYOUT);
      if (layout) layout.classList.toggle("setup-folded");
    }
  });

  // Capture, before the grid's keys (assets/judging.js): while the plots cover the grid, the
  // grid takes no keys, and Esc closes the plots instead of clearing the judgment.
  window.addEventListener("keydown", (event) => {
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (document.querySelector(".offcanvas.show")) return;  // the inspector's keys
    if (!document.getElementById(IDS.PLOTS) || !expanded()) return;
    if (event.key === "p" || event.key === "Escape") {
      setExpanded(false);
      event.preventDefault();
    }
    event.stopPropagation();
  }, true);

  // A new round (another session or round index in the grid): its top in view, scrolled to
  // its first row, wherever the researcher had scrolled before.
  let shown = null;
  new MutationObserver(() => {
    const grid = document.querySelector(".candidate-grid");
    const key = grid ? grid.dataset.session + "/" + grid.dataset.round : null;
    if (key === shown) return;
    shown = key;
    if (!grid) return;
    // The scrolling slot (dcc.Loading gives its parent_className to an inner box as well).
    const slot = grid.closest(".round-column > .grid-slot");
    if (slot) slot.scrollTop = 0;
    const top = (slot || grid).getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight - 120) window.scrollBy(0, top - 8);
  }).observe(document.body, {childList: true, subtree: true});
})();
