"""The steering-space plot: every candidate in a 2-D plane, the posterior mean behind them and
the incumbent's path on top; a colour-mode change is a `dash.Patch` of the marker colours.

The figure's traces sit at fixed positions (HEAT_TRACE, POINTS_TRACE, PATH_TRACE, then the
legend keys), so a patch can address them without the figure at hand.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from dash import Patch

from dashboard.figures.curves import empty_curves_figure
from steering_core.samplers.base import shown_role
from steering_core.space_view import LABELS, IncumbentPath, Projection, SpacePoints

COLOUR_MODES: dict[str, str] = {
    "round": "round",
    "utility": "predicted utility",
    "uncertainty": "uncertainty (std)",
    "rating": "star rating",
    "label": "judgment",
    "source": "human vs synthetic",
}
CONTINUOUS_MODES = ("round", "utility", "uncertainty", "rating")
# Okabe-Ito colours: told apart with the common colour-vision deficiencies.
LABEL_COLOURS = {
    "won": "#009E73",
    "lost": "#D55E00",
    "tied": "#E69F00",
    "rejected": "#CC79A7",
    "unjudged": "#BBBBBB",
}
SOURCE_COLOURS = {
    "human": "#0072B2",
    "synthetic": "#E69F00",
    "cli": "#009E73",
    "script": "#CC79A7",
}
MISSING_COLOUR = "#D9D9D9"
COLOURSCALES = {
    "round": "Viridis",
    "utility": "Plasma",
    "uncertainty": "Cividis",
    "rating": "Viridis",
}
# What a point without a value in a continuous mode means.
MISSING_NAMES = {
    "round": "",
    "utility": "no model fitted yet",
    "uncertainty": "no model fitted yet",
    "rating": "not rated",
}
# The plot's height in pixels, set in the figure itself: without it Plotly kept the height
# of whatever figure the graph showed first (300 px for "No session yet"), and with one unit
# as long as the other both ways the plane then shrank to a third of the panel.
SPACE_HEIGHT = 460
HEAT_COLOURSCALE = [[0.0, "#ffffff"], [1.0, "#9ecae1"]]
# The utility has no unit of its own: it is the preference model's scale, where only
# differences between places mean something.
# Both colour scales stand at the plot's right, the points' in the upper half and the heat
# map's in the lower, so the figure reads in the steering page's narrow side column as well
# as expanded (a horizontal bar below the x axis took a third of the compact plot's height).
HEAT_COLOURBAR: dict[str, Any] = {
    "title": {"text": "predicted utility", "side": "right"},
    "orientation": "v",
    "thickness": 8,
    "len": 0.48,
    "y": 0.0,
    "yanchor": "bottom",
    "tickfont": {"size": 9},
    "title_font": {"size": 10},
}

HEAT_TRACE = 0
POINTS_TRACE = 1
PATH_TRACE = 2
KEYS_START = 3
# The legend keys of the categorical modes, then the "missing value" key, in trace order.
LEGEND_KEYS: tuple[tuple[str, str], ...] = (
    *(("label", label) for label in LABELS),
    *(("source", source) for source in SOURCE_COLOURS),
)
MISSING_KEY_TRACE = KEYS_START + len(LEGEND_KEYS)


def _check_mode(colour_by: str) -> None:
    if colour_by not in COLOUR_MODES:
        raise ValueError(f"colour_by: must be one of {', '.join(COLOUR_MODES)} (got {colour_by!r})")


def _values(points: SpacePoints, colour_by: str) -> np.ndarray:
    """The numbers a continuous mode colours by, NaN where a candidate has none."""
    if colour_by == "round":
        return points.round_index.astype(np.float64)
    if colour_by == "rating":
        return points.rating
    predicted = points.utility_mean if colour_by == "utility" else points.utility_std
    return np.full(len(points), np.nan) if predicted is None else predicted


def marker_colours(points: SpacePoints, colour_by: str) -> dict[str, Any]:
    """The points' marker colour properties in a colour mode: `color` (numbers, with
    MISSING_COLOUR where a value is missing, or colour strings in a categorical mode),
    `colorscale`, `cmin`, `cmax`, `showscale` and `colorbar`."""
    _check_mode(colour_by)
    if colour_by in ("label", "source"):
        mapping = LABEL_COLOURS if colour_by == "label" else SOURCE_COLOURS
        categories = points.label if colour_by == "label" else points.source
        colours = np.array([mapping.get(c, MISSING_COLOUR) for c in categories], dtype=object)
        return {
            "color": colours.tolist(),
            "colorscale": None,
            "cmin": None,
            "cmax": None,
            "showscale": False,
            "colorbar": {"title": {"text": ""}},
        }
    values = _values(points, colour_by)
    present = ~np.isnan(values)
    if colour_by == "rating":
        low, high = 1.0, 5.0
    elif present.any():
        low, high = float(values[present].min()), float(values[present].max())
    else:
        low, high = 0.0, 1.0
    if high <= low:
        high = low + 1.0
    colour: np.ndarray | list[Any]
    if present.all():
        colour = values.astype(np.float32)
    else:
        # Plotly draws a colour string as it is among numbers on the scale: grey = no value.
        mixed = values.astype(object)
        mixed[~present] = MISSING_COLOUR
        colour = mixed.tolist()
    colorbar: dict[str, Any] = {
        "title": {"text": COLOUR_MODES[colour_by], "side": "right", "font": {"size": 10}},
        "thickness": 10,
        "tickfont": {"size": 9},
        # The upper half: the heat map's scale takes the lower (HEAT_COLOURBAR).
        "len": 0.48,
        "y": 1.0,
        "yanchor": "top",
    }
    if colour_by == "rating":
        colorbar.update(tickvals=[1, 2, 3, 4, 5], ticktext=["1 ★", "2", "3", "4", "5 ★"])
    return {
        "color": colour,
        "colorscale": COLOURSCALES[colour_by],
        "cmin": low,
        "cmax": high,
        "showscale": bool(present.any()),
        "colorbar": colorbar,
    }


def _keys_shown(points: SpacePoints, colour_by: str) -> tuple[list[bool], str, bool]:
    """Which legend keys a colour mode shows (only categories present), and the name and
    visibility of the "missing value" key."""
    present = {
        "label": set(points.label.tolist()),
        "source": set(points.source.tolist()),
    }
    shown = [mode == colour_by and name in present[mode] for mode, name in LEGEND_KEYS]
    missing = colour_by in CONTINUOUS_MODES and bool(np.isnan(_values(points, colour_by)).any())
    return shown, MISSING_NAMES.get(colour_by, ""), missing


# Beyond this many points, other sessions' candidates hover with no text (their image still
# shows beside the pointer): their hover text would be megabytes on every update, and a
# click opens the inspector with everything.
CONTEXT_TEXT_LIMIT = 20_000


def _hover(points: SpacePoints) -> tuple[list[int], list[str]]:
    """Per point: `customdata`, the candidate id (a click reads it), and a short hover
    `text` (its card number and round, judgment, stars, prediction and, for another
    session's candidate, its session). Kept small: at 60,000 points every byte per point is 60 kB
    on each figure update. The ids are a plain 1-D list: Plotly would send a NumPy array in
    binary, which Dash drops from click events."""
    customdata = points.candidate_id.tolist()
    described = np.ones(len(points), dtype=bool)
    if len(points) > CONTEXT_TEXT_LIMIT:
        described = points.session_id == points.focus_session_id
    text = [""] * len(points)
    for i in np.flatnonzero(described).tolist():
        stars = "" if np.isnan(points.rating[i]) else f", {points.rating[i]:.0f} ★"
        predicted = ""
        if points.utility_mean is not None and points.utility_std is not None:
            predicted = f"<br>predicted {points.utility_mean[i]:.2g} ± {points.utility_std[i]:.1g}"
        where = ""
        if points.session_id[i] != points.focus_session_id:
            where = f"<br>session {points.session_id[i]} ({points.source[i]})"
        # One number per candidate: its card number in its round, as the grid shows it.
        text[i] = (
            f"<b>candidate {points.slot[i] + 1} of round {points.round_index[i]}</b>"
            f"<br>{shown_role(points.role[i])}, {points.label[i]}{stars}{predicted}{where}"
        )
    return customdata, text


def _marker_size(n: int) -> int:
    """Smaller markers for more points, so a dense plot stays legible."""
    return 9 if n <= 2_000 else 6 if n <= 20_000 else 4


# Drawn last, so on top: the focus session, then winners (the incumbent re-shown next round
# sits on its winner's spot and would hide it), then later rounds.
_LABEL_DEPTH = {"unjudged": 0, "lost": 1, "rejected": 2, "tied": 3, "won": 4}


def in_draw_order(points: SpacePoints) -> SpacePoints:
    """The points in the order the figure draws them (its trace arrays follow this order)."""
    depth = np.array([_LABEL_DEPTH.get(label, 0) for label in points.label], dtype=np.int64)
    focus = points.session_id == points.focus_session_id
    order = np.lexsort((points.round_index, depth, focus))
    arrays = {
        item.name: getattr(points, item.name)[order]
        for item in dataclasses.fields(points)
        if isinstance(getattr(points, item.name), np.ndarray)
    }
    return dataclasses.replace(points, **arrays)


def steering_space_figure(
    points: SpacePoints,
    projection: Projection,
    colour_by: str = "round",
    heat: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    path: IncumbentPath | None = None,
    uirevision: str = "steering-space",
) -> go.Figure:
    """Every candidate at its place in the projection's plane, coloured by `colour_by` (one
    of COLOUR_MODES), over the posterior mean `heat` (`xs`, `ys`, `z` from
    `space_view.heat_map`) and under the incumbent's `path`.

    Points are one WebGL trace (60,000 points stay fluid); its `customdata` is the
    candidate id (a click in the browser reads it). `uirevision` keeps zoom and pan across
    updates: pass a new value (e.g. a new session or a refitted projection) to reset them."""
    _check_mode(colour_by)
    points = in_draw_order(points)
    coordinates = projection.transform(points.steering_vectors)
    traces: list[dict[str, Any]] = []

    if heat is not None:
        xs, ys, z = heat
        traces.append(
            dict(
                type="contour",
                x=xs,
                y=ys,
                z=z,
                name="posterior mean (plane)",
                colorscale=HEAT_COLOURSCALE,
                showscale=True,
                colorbar=HEAT_COLOURBAR,
                # No labels on the contour lines: placing them took 40 of the 65 ms of
                # every redraw (after each judgment), which held back the next judgment's
                # acknowledgment; hovering anywhere on the plane gives the value.
                contours={"coloring": "heatmap", "showlabels": False},
                line={"width": 0.5, "color": "#7a9cbf"},
                hovertemplate="predicted utility %{z:.3g}<extra>posterior mean</extra>",
                showlegend=True,
            )
        )
    else:
        traces.append(dict(type="contour", z=None, visible=False, showscale=False, name="heat"))

    colours = marker_colours(points, colour_by)
    focus = points.session_id == points.focus_session_id
    context = not focus.all()
    size = _marker_size(len(points))
    customdata, text = _hover(points)
    traces.append(
        dict(
            type="scattergl",
            # float32 halves what is sent and is finer than any screen.
            x=coordinates[:, 0].astype(np.float32),
            y=coordinates[:, 1].astype(np.float32),
            mode="markers",
            name="candidates",
            showlegend=False,
            customdata=customdata,
            text=text,
            hovertemplate="%{text}<extra></extra>",
            marker={
                **colours,
                # Other sessions' candidates (scope "all") are context: smaller and paler.
                "size": np.where(focus, size, max(3, size - 3)).astype(np.uint8)
                if context
                else size,
                "opacity": np.where(focus, 0.95, 0.4).astype(np.float32) if context else 0.9,
                # An outline sets close points apart; on tens of thousands it is only noise.
                "line": {"width": 0.5 if len(points) <= 20_000 else 0, "color": "white"},
            },
        )
    )

    if path is not None and len(path):
        steps = projection.transform(path.steering_vectors)
        symbols = ["circle"] * (len(path) - 1) + ["star"]
        # WebGL too: a WebGL trace always draws above SVG ones, and the path goes on top.
        traces.append(
            dict(
                type="scattergl",
                x=steps[:, 0],
                y=steps[:, 1],
                mode="lines+markers",
                name="incumbent path (★ now)",
                line={"color": "#222", "width": 2},
                marker={
                    # Open rings: the candidate each step sits on keeps its colour visible.
                    "symbol": symbols,
                    "size": [11] * (len(path) - 1) + [18],
                    "color": ["rgba(0,0,0,0)"] * (len(path) - 1) + ["#FFD700"],
                    "line": {"color": "#222", "width": 1.5},
                },
                customdata=np.column_stack([path.candidate_id, path.round_index]).tolist(),
                # A round's incumbent is always its card 1.
                hovertemplate=(
                    "<b>incumbent of round %{customdata[1]}</b><br>its candidate 1<extra></extra>"
                ),
            )
        )
    else:
        traces.append(dict(type="scattergl", x=[], y=[], visible=False, name="incumbent path"))

    shown, missing_name, missing_shown = _keys_shown(points, colour_by)
    for (mode, name), visible in zip(LEGEND_KEYS, shown, strict=True):
        mapping = LABEL_COLOURS if mode == "label" else SOURCE_COLOURS
        traces.append(_legend_key(name, mapping[name], visible))
    traces.append(_legend_key(missing_name, MISSING_COLOUR, missing_shown))

    sessions = len(set(points.session_id.tolist()))
    where = f" in {sessions} sessions" if sessions > 1 else ""
    plane = "PCA plane" if projection.explained_variance_ratio is not None else "steering axes"
    # Not validated: at 60,000 points Plotly's checks of every value cost about a second
    # per update; the traces are built here, and the tests check what they hold.
    figure = go.Figure(data=traces, _validate=False)
    figure.update_layout(
        # Short, small print: the panel's header already says "Steering space".
        title={
            "text": f"{len(points):,} candidates{where} · d = {points.d}, {plane}",
            "x": 0.01,
            "xanchor": "left",
            "y": 0.99,
            "yanchor": "top",
            "font": {"size": 11},
        },
        font={"size": 10},
        template=pio.templates["plotly_white"],
        uirevision=uirevision,
        height=SPACE_HEIGHT,
        hovermode="closest",
        # A click is handled by assets/inspector.js; Plotly's own click event (and the
        # graph's `clickData` update it brings) only cost time.
        clickmode="none",
        # Plotly widens the margins for the colour bars itself (automargin).
        margin={"l": 48, "r": 10, "t": 26, "b": 40},
        # Inside the plot's top left corner: above the plot, a legend that wraps in a narrow
        # column ran over the title.
        legend={
            "orientation": "v",
            "x": 0.0,
            "xanchor": "left",
            "y": 1.0,
            "yanchor": "top",
            "bgcolor": "rgba(255,255,255,0.75)",
            "font": {"size": 9},
        },
        # No fixed range: Plotly fits the points and the heat map. A range that grew with
        # each round's points was a new value on every update, and Plotly keeps a zoom
        # (under an unchanged `uirevision`) only while the figure does not set the range.
        xaxis={
            "title": {"text": projection.axis_titles[0]},
            "autorange": True,
            "constrain": "domain",
        },
        yaxis={
            "title": {"text": projection.axis_titles[1]},
            "autorange": True,
            # One unit is one unit both ways, so distances in the plot are true to the plane;
            # the plot area shrinks to fit rather than showing beyond the heat map.
            "scaleanchor": "x",
            "scaleratio": 1,
            "constrain": "domain",
        },
    )
    if not len(points):
        figure.add_annotation(
            text="No candidates yet: generate a round to see the steering space",
            x=0.5,
            y=0.5,
            xref="paper",
            yref="paper",
            showarrow=False,
            font={"size": 14, "color": "#666"},
        )
    return figure


def _legend_key(name: str, colour: str, visible: bool) -> dict[str, Any]:
    """A legend entry with no data: it names one colour of a categorical mode."""
    return dict(
        type="scatter",
        x=[None],
        y=[None],
        mode="markers",
        name=name,
        marker={"color": colour, "size": 10, "line": {"width": 0.5, "color": "#888"}},
        visible=visible,
        showlegend=True,
        hoverinfo="skip",
    )


def empty_space_figure(message: str) -> go.Figure:
    """The steering space's panel when there is nothing to draw, at the plot's height."""
    return empty_curves_figure(message, title="Steering space", height=SPACE_HEIGHT)


def colour_patch(points: SpacePoints, colour_by: str) -> Patch:
    """A patch of a `steering_space_figure` that changes only how the points are coloured:
    their marker colours, colour scale and colourbar, and which legend keys are shown."""
    points = in_draw_order(points)
    colours = marker_colours(points, colour_by)
    patch = Patch()
    marker = patch["data"][POINTS_TRACE]["marker"]
    for key, value in colours.items():
        marker[key] = value.tolist() if isinstance(value, np.ndarray) else value
    shown, missing_name, missing_shown = _keys_shown(points, colour_by)
    for offset, visible in enumerate(shown):
        patch["data"][KEYS_START + offset]["visible"] = visible
    patch["data"][MISSING_KEY_TRACE]["visible"] = missing_shown
    patch["data"][MISSING_KEY_TRACE]["name"] = missing_name
    return patch
