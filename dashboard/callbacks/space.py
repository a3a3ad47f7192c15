"""The steering space (full figure on new data, a colour patch on a colour change), the
inspector a click opens, its actions, and the live curves with the label statistics."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, dcc, no_update

from dashboard import ids
from dashboard.callbacks.session import error_message
from dashboard.figures.curves import curves_figure, empty_curves_figure, graph_config
from dashboard.figures.space import colour_patch, empty_space_figure, steering_space_figure
from dashboard.layout.space import candidate_details
from dashboard.layout.stats import label_stats_table
from dashboard.state import DashboardState
from steering_core.errors import SteeringError
from steering_core.selection import anchors_of_selection
from steering_core.sessions import (
    get_candidate,
    get_feedback_events,
    get_round,
    get_session,
    lineage,
    submit_feedback,
)
from steering_core.space_view import (
    fitted_space_points,
    heat_map,
    incumbent_path,
    label_statistics,
    plot_extent,
    session_projection,
)
from steering_core.views.curve_tables import curve_series, curve_tables, curves_zip
from steering_core.views.judgment_words import card_name, received_labels


def space_figure(
    state: DashboardState,
    session_id: str | None,
    scope: str,
    colour_by: str,
    refit: bool = False,
    zoom: dict | None = None,
) -> Any:
    """The whole steering-space figure of a session (or of all sessions of its `d`), in the
    session's kept projection (`refit`: fit it anew, the researcher asked), showing the
    researcher's `zoom` (axis ranges) while it was made on this same map."""
    if not session_id:
        return empty_space_figure("No session yet")
    try:
        points, model = fitted_space_points(state.workspace, session_id, scope)
        if len(points) == 0:
            return empty_space_figure("No candidates yet")
        path = incumbent_path(state.workspace, session_id)
        kept = session_projection(state.workspace, session_id, scope, refit=refit)
        extent = plot_extent(kept.projection.transform(points.steering_vectors))
        heat = heat_map(model, kept.projection, extent)
    except SteeringError as error:
        return empty_space_figure(str(error))
    # The zoom is kept while the session, scope and projection are: a refit resets it.
    revision = f"{session_id}-{scope}-{kept.revision}"
    figure = steering_space_figure(
        points, kept.projection, colour_by, heat=heat, path=path, uirevision=revision
    )
    # Plotly alone keeps a zoom under an unchanged `uirevision`, but dcc.Graph re-plots its
    # own figure right after a zoom, which empties Plotly's record of it: so the zoom is
    # kept here and sent back with the new round's points.
    if zoom and zoom.get("revision") == revision:
        figure.update_xaxes(range=zoom["x"], autorange=False)
        figure.update_yaxes(range=zoom["y"], autorange=False)
    return figure


def recolour(state: DashboardState, session_id: str | None, scope: str, colour_by: str) -> Any:
    """Only the marker colours, for a change of colour mode (a `dash.Patch`)."""
    if not session_id:
        return no_update
    points, _ = fitted_space_points(state.workspace, session_id, scope)
    return colour_patch(points, colour_by)


def inspect(state: DashboardState, candidate_id: int | None) -> Any:
    """The inspector's details of a candidate and its title, "Candidate 3 of round 4" (the
    browser opens the panel with its image: assets/inspector.js)."""
    if candidate_id is None:
        return no_update, no_update
    try:
        candidate = get_candidate(state.workspace, int(candidate_id))
        session = get_session(state.workspace, candidate.session_id)
        events = get_feedback_events(
            state.workspace, candidate.session_id, round_index=candidate.round_index
        )
        _, shown = get_round(state.workspace, candidate.session_id, candidate.round_index)
        slots = {c.id: c.slot for c in shown}
        received = received_labels(events, slots).get(candidate.id, [])
        chain = list(reversed(lineage(state.workspace, candidate.id)))
    except SteeringError as error:
        return [error_message(error)], "Candidate"
    title = card_name(candidate).capitalize()
    return candidate_details(candidate, chain, received, session.prompt), title


def mark_best(state: DashboardState, candidate_id: int | None) -> Any:
    """'Mark as best': a winner judgment for the candidate in its own round."""
    if candidate_id is None:
        return no_update
    try:
        candidate = get_candidate(state.workspace, int(candidate_id))
        with state.feedback_lock:
            submit_feedback(
                state.workspace,
                candidate.session_id,
                {"mode": "winner", "winner": candidate.id},
                round_index=candidate.round_index,
            )
    except SteeringError as error:
        return error_message(error)
    return dbc.Alert(
        f"Stored: {card_name(candidate)} is the best of its round.",
        color="success",
        className="py-1",
    )


def tag(state: DashboardState, candidate_id: int | None, tags: list[str] | None) -> Any:
    """Tag a candidate: a critique about it with the chosen tags."""
    if candidate_id is None:
        return no_update
    try:
        candidate = get_candidate(state.workspace, int(candidate_id))
        raw = {"mode": "critique", "tags": tags or [], "candidate": candidate.id}
        with state.feedback_lock:
            submit_feedback(
                state.workspace, candidate.session_id, raw, round_index=candidate.round_index
            )
    except SteeringError as error:
        return error_message(error)
    return dbc.Alert(f"Tagged: {', '.join(tags or [])}.", color="success", className="py-1")


def more_like_this(state: DashboardState, candidate_id: int | None) -> tuple[Any, Any]:
    """The next round of the candidate's session around it; returns (job, message)."""
    if candidate_id is None:
        return no_update, no_update
    try:
        candidate = get_candidate(state.workspace, int(candidate_id))
        job_id = state.start_round(candidate.session_id, around=[candidate.id])
    except SteeringError as error:
        return no_update, error_message(error)
    message = dbc.Alert(
        f"Next round: variations of candidate {candidate.id}.", color="success", className="py-1"
    )
    return {"job_id": job_id}, message


def selected_candidates(selection: dict | None) -> list[int]:
    """The candidate ids of a lasso or box selection (the graph's `selectedData`): a
    candidate's customdata is its id, an incumbent-path step's is [id, round]."""
    chosen = []
    for point in (selection or {}).get("points") or []:
        data = point.get("customdata")
        data = data[0] if isinstance(data, list) and data else data
        if isinstance(data, int | float) and not isinstance(data, bool):
            chosen.append(int(data))
    return chosen


def more_like_these(
    state: DashboardState, session_id: str | None, selection: dict | None
) -> tuple[Any, Any]:
    """The session's next round around the candidates selected in the steering space;
    returns (job, message)."""
    if not session_id:
        return no_update, no_update
    selected = selected_candidates(selection)
    if not selected:
        return no_update, dbc.Alert(
            "Select candidates first: pick the lasso or box tool at the map's top right and "
            "draw around the points.",
            color="info",
            className="py-1 mb-0",
        )
    try:
        around = anchors_of_selection(state.workspace, session_id, selected)
        job_id = state.start_round(session_id, around=around)
    except SteeringError as error:
        return no_update, error_message(error)
    names = ", ".join(card_name(get_candidate(state.workspace, c)) for c in around)
    message = dbc.Alert(
        f"Next round: variations of {names}, spread over the {len(selected)} selected.",
        color="success",
        className="py-1 mb-0",
    )
    return {"job_id": job_id}, message


def curves(state: DashboardState, session_id: str | None) -> tuple[Any, Any]:
    """(curves figure, label statistics table) of a session."""
    if not session_id:
        return empty_curves_figure("No session yet"), None
    try:
        series = curve_series(state.workspace, session_id)
        statistics = label_statistics(state.workspace, session_id)
    except SteeringError as error:
        return empty_curves_figure(str(error)), error_message(error)
    figure = curves_figure(series) if series["round_index"] else empty_curves_figure()
    return figure, label_stats_table(statistics)


def curves_csv(state: DashboardState, session_id: str | None) -> Any:
    """Every curve's values of a session as `curve-<key>.csv` files in one zip (the tables
    the curves are drawn from), for `dcc.Download`."""
    if not session_id:
        return no_update
    series = curve_series(state.workspace, session_id)
    data = curves_zip(curve_tables(series))
    return dcc.send_bytes(data, f"curves-session-{session_id}.zip")


def register(app: Dash, state: DashboardState) -> None:
    @app.callback(
        Output(ids.SPACE, "figure"),
        Input(ids.VERSION, "data"),
        Input(ids.SPACE_SCOPE, "value"),
        Input(ids.SPACE_COLOUR, "value"),
        Input(ids.SPACE_REFIT, "n_clicks"),
        State(ids.SESSION, "data"),
        State(ids.SPACE_ZOOM, "data"),
    )
    def space(
        version: str | None,
        scope: str,
        colour_by: str,
        _: int | None,
        session: dict | None,
        zoom: dict | None,
    ) -> Any:
        session_id = (session or {}).get("session_id")
        if ctx.triggered_id == ids.SPACE_COLOUR:
            return recolour(state, session_id, scope, colour_by)
        refit = ctx.triggered_id == ids.SPACE_REFIT
        return space_figure(state, session_id, scope, colour_by, refit=refit, zoom=zoom)

    # The researcher's zoom (or pan) on the map, with the map it was made on (its
    # `uirevision`); the autoscale and reset buttons forget it. Other relayouts (a resize)
    # leave it as it is.
    app.clientside_callback(
        """(relayout, figure) => {
            const keep = window.dash_clientside.no_update;
            if (!relayout) return keep;
            if (relayout['xaxis.autorange'] || relayout['yaxis.autorange']) return null;
            const range = (axis) => relayout[axis + '.range'] ||
                [relayout[axis + '.range[0]'], relayout[axis + '.range[1]']];
            const x = range('xaxis');
            const y = range('yaxis');
            if (x.concat(y).some((v) => typeof v !== 'number')) return keep;
            return {revision: figure && figure.layout && figure.layout.uirevision, x: x, y: y};
        }""",
        Output(ids.SPACE_ZOOM, "data"),
        Input(ids.SPACE, "relayoutData"),
        State(ids.SPACE, "figure"),
        prevent_initial_call=True,
    )

    # A click on a point (or "inspect" on a card) opens the inspector in the browser
    # (assets/inspector.js): the image at once, and the candidate named in INSPECTED, from
    # which the server fills in the rest of the details.

    # The details are asked for once the panel and its image are on screen, so that their
    # render (lineage thumbnails, judgments) never holds the image back.
    app.clientside_callback(
        """async (inspected) => {
            await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
            return inspected;
        }""",
        Output(ids.INSPECTOR_DETAILS, "data"),
        Input(ids.INSPECTED, "data"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.INSPECTOR_BODY, "children"),
        Output(ids.INSPECTOR, "title"),
        Output(ids.INSPECTOR_MESSAGE, "children"),
        Input(ids.INSPECTOR_DETAILS, "data"),
        prevent_initial_call=True,
    )
    def open_inspector(inspected: dict | None) -> Any:
        body, title = inspect(state, (inspected or {}).get("candidate_id"))
        return body, title, None

    @app.callback(
        Output(ids.INSPECTOR_MESSAGE, "children", allow_duplicate=True),
        Input(ids.MARK_BEST, "n_clicks"),
        State(ids.INSPECTED, "data"),
        prevent_initial_call=True,
    )
    def best(_: int, inspected: dict | None) -> Any:
        return mark_best(state, (inspected or {}).get("candidate_id"))

    @app.callback(
        Output(ids.INSPECTOR_MESSAGE, "children", allow_duplicate=True),
        Input(ids.TAG, "n_clicks"),
        State(ids.INSPECTED, "data"),
        State(ids.INSPECTOR_TAGS, "value"),
        prevent_initial_call=True,
    )
    def tagged(_: int, inspected: dict | None, tags: list[str] | None) -> Any:
        return tag(state, (inspected or {}).get("candidate_id"), tags)

    @app.callback(
        Output(ids.JOB, "data", allow_duplicate=True),
        Output(ids.INSPECTOR_MESSAGE, "children", allow_duplicate=True),
        Input(ids.MORE_LIKE_THIS, "n_clicks"),
        State(ids.INSPECTED, "data"),
        prevent_initial_call=True,
    )
    def more(_: int, inspected: dict | None) -> Any:
        return more_like_this(state, (inspected or {}).get("candidate_id"))

    @app.callback(
        Output(ids.JOB, "data", allow_duplicate=True),
        Output(ids.SPACE_MESSAGE, "children"),
        Input(ids.SPACE_MORE_LIKE_THESE, "n_clicks"),
        State(ids.SPACE, "selectedData"),
        State(ids.SESSION, "data"),
        prevent_initial_call=True,
    )
    def more_of_selection(_: int, selection: dict | None, session: dict | None) -> Any:
        return more_like_these(state, (session or {}).get("session_id"), selection)

    @app.callback(
        Output(ids.CURVES, "figure"),
        Output(ids.LABEL_STATS, "children"),
        Output(ids.CURVES, "config"),
        Input(ids.VERSION, "data"),
        State(ids.SESSION, "data"),
    )
    def live_curves(_: str | None, session: dict | None) -> Any:
        session_id = (session or {}).get("session_id")
        return (*curves(state, session_id), graph_config(session_id))

    @app.callback(
        Output(ids.CURVES_DOWNLOAD, "data"),
        Input(ids.CURVES_CSV, "n_clicks"),
        State(ids.SESSION, "data"),
        prevent_initial_call=True,
    )
    def download_curves(_: int, session: dict | None) -> Any:
        return curves_csv(state, (session or {}).get("session_id"))
