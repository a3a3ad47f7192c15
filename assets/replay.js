/*
 * The replay page in the browser: images load lazily, and a URL's #round-N is scrolled to
 * once the page that holds it has been rendered.
 *
 * Dash's html.Img has no `loading` attribute, and a browser starts fetching an image as soon
 * as its src is set, so the replay renders `data-src`; here each new image gets
 * loading="lazy" first and its src second, and the browser fetches only what is near the
 * screen (a 100-round replay holds about 800 images).
 */
(function () {
  "use strict";

  let scrolledTo = null;
  let pending = false;

  function loadImages() {
    document.querySelectorAll("img[data-src]:not([src])").forEach(function (image) {
      image.loading = "lazy";
      image.src = image.dataset.src;
    });
  }

  function scrollToHash() {
    const hash = window.location.hash;
    const where = window.location.pathname + window.location.search + hash;
    if (!hash || where === scrolledTo) return;
    const target = document.getElementById(decodeURIComponent(hash.slice(1)));
    if (!target) return;
    scrolledTo = where;
    target.scrollIntoView();
  }

  function update() {
    pending = false;
    loadImages();
    scrollToHash();
  }

  function schedule() {
    if (!pending) {
      pending = true;
      window.requestAnimationFrame(update);
    }
  }

  new MutationObserver(schedule).observe(document.documentElement, {
    childList: true,
    subtree: true,
  });
  // A click on an in-page link scrolls by itself; remember it so a re-render does not.
  window.addEventListener("hashchange", function () {
    scrolledTo = window.location.pathname + window.location.search + window.location.hash;
  });
  schedule();
})();
