"""First load of the steering page: bytes on the wire, time to interactive, what fits on screen.

Used by `benchmarks/dashboard_browser.py`. Bytes come from Chromium's own network events
(CDP `Network.loadingFinished.encodedDataLength`: what crossed the wire, headers included,
compressed if the server compressed) and `Network.dataReceived.dataLength` (the decoded
bodies), so they are exact; times are from the page's navigation start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# What a researcher needs on one screen (issue 15, build 1), by the selector that finds it.
ON_SCREEN = {
    "grid": ".candidate-grid",
    "action bar": ".judging-bar",
    "steering space": "#space-graph",
    "curves": "#key-curves",
}
# Ready to judge: the round's images loaded and the action bar drawn.
GRID_READY = (
    "() => { const g = document.querySelector('.candidate-grid');"
    " const bar = document.querySelector('.judging-bar');"
    " return g && bar && bar.offsetHeight > 0"
    " && g.querySelectorAll('.candidate-image').length > 0"
    " && Array.from(g.querySelectorAll('.candidate-image'))"
    "      .every(i => i.complete && i.naturalWidth > 0); }"
)
# A digit picked card 1: the draft summary (a Dash clientside callback) says so.
KEY_HANDLED = (
    "() => { const s = document.getElementById('draft-summary');"
    " const ok = s && s.textContent.startsWith('Ready');"
    " if (ok && window.keyHandledAt === undefined) window.keyHandledAt = performance.now();"
    " return ok; }"
)
# The plots drawn: plotly.js loaded and both graphs rendered.
PLOTS_DRAWN = (
    "() => ['space-graph', 'key-curves'].every((id) => {"
    " const e = document.getElementById(id);"
    " return e && e.querySelector('.js-plotly-plot .main-svg'); })"
)


@dataclass
class Transfer:
    """Every response of a page load: wire bytes, decoded bytes, encoding, by URL."""

    urls: dict[str, str] = field(default_factory=dict)
    encodings: dict[str, str] = field(default_factory=dict)
    from_cache: set[str] = field(default_factory=set)
    wire: dict[str, int] = field(default_factory=dict)
    decoded: dict[str, int] = field(default_factory=dict)

    def handlers(self) -> dict[str, Any]:
        """The CDP events this listens to, with their handlers."""
        return {
            "Network.responseReceived": self._response,
            "Network.requestServedFromCache": self._cached,
            "Network.dataReceived": self._data,
            "Network.loadingFinished": self._finished,
        }

    def _cached(self, event: dict[str, Any]) -> None:
        self.from_cache.add(event["requestId"])

    def _response(self, event: dict[str, Any]) -> None:
        response = event["response"]
        self.urls[event["requestId"]] = response["url"]
        headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
        self.encodings[event["requestId"]] = headers.get("content-encoding", "")
        if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
            self.from_cache.add(event["requestId"])

    def _data(self, event: dict[str, Any]) -> None:
        rid = event["requestId"]
        self.decoded[rid] = self.decoded.get(rid, 0) + event["dataLength"]

    def _finished(self, event: dict[str, Any]) -> None:
        self.wire[event["requestId"]] = int(event["encodedDataLength"])

    def total_wire(self) -> int:
        return sum(self.wire.values())

    def total_decoded(self) -> int:
        return sum(self.decoded.get(rid, 0) for rid in self.wire)

    def largest(self, n: int = 4) -> list[str]:
        """The `n` responses with the most bytes on the wire, as `name wire/decoded encoding`
        lines."""
        ranked = sorted(self.wire, key=lambda rid: self.wire[rid], reverse=True)
        lines = []
        for rid in ranked[:n]:
            name = self.urls.get(rid, "?").split("?")[0].rsplit("/", 1)[-1] or "/"
            encoding = self.encodings.get(rid) or "identity"
            cached = ", from cache" if rid in self.from_cache else ""
            lines.append(
                f"{name}: {kb(self.wire[rid])} on the wire, {kb(self.decoded.get(rid, 0))}"
                f" decoded ({encoding}{cached})"
            )
        return lines


def kb(n: int) -> str:
    return f"{n / 1000:,.0f} kB"


@dataclass
class Load:
    """One page load: bytes, times (ms from navigation start) and what was on screen."""

    transfer: Transfer
    grid_ready_ms: float
    interactive_ms: float
    plots_ms: float
    on_screen: dict[str, str]


def on_screen(page: Any) -> dict[str, str]:
    """For each element of `ON_SCREEN`: 'pass' when all of it lies inside the viewport at
    the top of the page (no scrolling), else why not; never raises."""
    verdicts = {}
    for name, selector in ON_SCREEN.items():
        box = page.evaluate(
            "(s) => { const e = document.querySelector(s); if (!e) return null;"
            " const r = e.getBoundingClientRect();"
            " return {top: r.top + window.scrollY, left: r.left + window.scrollX,"
            " bottom: r.bottom + window.scrollY, right: r.right + window.scrollX,"
            " width: r.width, height: r.height,"
            " vw: window.innerWidth, vh: window.innerHeight}; }",
            selector,
        )
        if box is None:
            verdicts[name] = f"FAIL (no {selector} on the page)"
        elif box["width"] == 0 or box["height"] == 0:
            verdicts[name] = "FAIL (not shown)"
        elif box["bottom"] > box["vh"] + 0.5 or box["right"] > box["vw"] + 0.5:
            verdicts[name] = (
                f"FAIL (spans {box['top']:.0f}-{box['bottom']:.0f} px down,"
                f" {box['left']:.0f}-{box['right']:.0f} px across;"
                f" viewport {box['vw']}x{box['vh']})"
            )
        else:
            verdicts[name] = "pass"
    return verdicts


def measure(page: Any, cdp: Any, url: str, reload: bool, screenshot: str | None = None) -> Load:
    """Load `url` in `page` (or reload it), until a key press is handled and the plots are
    drawn; the draft is cleared again so nothing is stored."""
    transfer = Transfer()
    for event, handler in transfer.handlers().items():
        cdp.on(event, handler)
    if reload:
        page.reload(wait_until="commit")
    else:
        page.goto(url, wait_until="commit")
    page.wait_for_function(GRID_READY, polling="raf", timeout=120_000)
    grid_ready = page.evaluate("performance.now()")
    page.keyboard.press("1")
    page.wait_for_function(KEY_HANDLED, polling="raf", timeout=60_000)
    interactive = page.evaluate("window.keyHandledAt")
    page.keyboard.press("Escape")
    page.wait_for_function(PLOTS_DRAWN, polling="raf", timeout=120_000)
    plots = page.evaluate("performance.now()")
    # The responses still in flight for what is drawn (images, late scripts) finish.
    page.wait_for_load_state("networkidle")
    verdicts = on_screen(page)
    if screenshot:
        page.screenshot(path=screenshot)
    for event, handler in transfer.handlers().items():
        cdp.remove_listener(event, handler)
    return Load(transfer, grid_ready, interactive, plots, verdicts)


def first_loads(browser: Any, url: str, sizes: list[tuple[int, int]], shots: str) -> list[str]:
    """At each window size, a fresh browser profile: the first load, then a reload
    (the browser's cache in use); report lines in Markdown."""
    lines = [
        "| window | load | on the wire | decoded | grid ready ms | interactive ms |"
        " plots drawn ms |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    details: list[str] = []
    for width, height in sizes:
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        for which in ("first load", "reload"):
            shot = f"{shots}/first-load-{width}x{height}.png" if which == "first load" else None
            load = measure(page, cdp, url, reload=which == "reload", screenshot=shot)
            lines.append(
                f"| {width}x{height} | {which} | {kb(load.transfer.total_wire())} |"
                f" {kb(load.transfer.total_decoded())} | {load.grid_ready_ms:.0f} |"
                f" {load.interactive_ms:.0f} | {load.plots_ms:.0f} |"
            )
            details.append(f"{width}x{height} {which}, largest responses:")
            details += [f"  {line}" for line in load.transfer.largest()]
            if which == "first load":
                verdicts = ", ".join(f"{name}: {v}" for name, v in load.on_screen.items())
                details.append(f"{width}x{height} on one screen: {verdicts}")
        context.close()
    return [*lines, "", *details]
