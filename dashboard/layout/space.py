"""The steering-space panel, the candidate inspector and the live-curves panel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
from dash import dcc, html

from dashboard import ids
from dashboard.figures.space import COLOUR_MODES
from steering_core.feedback import CRITIQUE_TAGS
from steering_core.samplers.base import shown_role
from steering_core.storage.records import CandidateRecord
from steering_core.views.judgment_words import card_name
from steering_core.views.roles import role_colour

GRAPH_CONFIG = {"displaylogo": False, "scrollZoom": True}
# In the steering space a click inspects a point (assets/inspector.js). Plotly would take
# two clicks on two points within 300 ms for a double click and reset the zoom (a full
# redraw, 70-150 ms, that held the inspector back); the mode bar's "reset axes" does that.
SPACE_GRAPH_CONFIG = {**GRAPH_CONFIG, "doubleClick": False}


def space_panel() -> dbc.Card:
    """The WebGL scatter of the steering space with its colour and scope controls."""
    return dbc.Card(
        [
            dbc.CardHeader(
                html.Div(
                    [
                        html.Strong("Steering space"),
                        dbc.Select(
                            id=ids.SPACE_COLOUR,
                            options=[
                                {"label": f"colour: {v}", "value": k}
                                for k, v in COLOUR_MODES.items()
                            ],
                            value="round",
                            size="sm",
                            style={"width": "13rem"},
                        ),
                        dbc.RadioItems(
                            id=ids.SPACE_SCOPE,
                            options=[
                                {"label": "this session", "value": "session"},
                                {"label": "all sessions", "value": "all"},
                            ],
                            value="session",
                            inline=True,
                            className="small",
                        ),
                        dbc.Button(
                            "Refit map",
                            id=ids.SPACE_REFIT,
                            size="sm",
                            color="light",
                            title="Fit the map's plane anew to every candidate there is now "
                            "(it stays fixed as rounds come in, so the map keeps its shape)",
                        ),
                        dbc.Button(
                            "More like these",
                            id=ids.SPACE_MORE_LIKE_THESE,
                            size="sm",
                            color="primary",
                            outline=True,
                            title="The next round around the candidates you selected with "
                            "the lasso or box tool",
                        ),
                    ],
                    className="d-flex flex-wrap align-items-center gap-3",
                )
            ),
            dbc.CardBody(
                [
                    # Responsive: the page's CSS sets its height (compact beside the grid,
                    # large when the plots are expanded), whatever height the figure names.
                    dcc.Graph(id=ids.SPACE, config=SPACE_GRAPH_CONFIG, responsive=True),
                    html.Div(id=ids.SPACE_MESSAGE, className="small px-2"),
                    # Filled and placed by assets/inspector.js while the pointer rests on a
                    # point: that candidate's image, from its URL (nothing in the figure).
                    html.Img(id=ids.SPACE_HOVER, className="space-hover", alt=""),
                ],
                className="p-1 position-relative space-body",
            ),
        ]
    )


def curves_panel() -> dbc.Card:
    """Loss, incumbent utility, step size, value of another round, decision time; and the
    label statistics beside them."""
    return dbc.Card(
        [
            dbc.CardHeader(
                html.Div(
                    [
                        html.Strong("How the model learns"),
                        # PNG: the camera in each figure's mode bar.
                        dbc.Button(
                            "CSV",
                            id=ids.CURVES_CSV,
                            size="sm",
                            color="light",
                            title="Download every curve's values as CSV files (a zip)",
                        ),
                        dcc.Download(id=ids.CURVES_DOWNLOAD),
                    ],
                    className="d-flex align-items-center justify-content-between gap-2",
                )
            ),
            dbc.CardBody(
                [
                    # The figure sets its own height (one panel per curve).
                    dcc.Graph(id=ids.CURVES, config=GRAPH_CONFIG),
                    html.Div(id=ids.LABEL_STATS, className="mt-2"),
                ],
                className="p-1",
            ),
        ]
    )


def inspector() -> dbc.Offcanvas:
    """The side panel a click on a point (or 'inspect' on a card) opens."""
    return dbc.Offcanvas(
        [
            # The image's source is set in the browser from the clicked point's id
            # (assets/inspector.js), so it shows before the server sends the details.
            html.Img(id=ids.INSPECTOR_IMAGE, className="inspector-image", alt="candidate"),
            html.Div(id=ids.INSPECTOR_BODY),
            html.Hr(),
            html.Div(
                [
                    dbc.Button("Mark as best", id=ids.MARK_BEST, size="sm", color="primary"),
                    dbc.Button("More like this", id=ids.MORE_LIKE_THIS, size="sm"),
                    dbc.Button("Fork from here", id=ids.FORK, size="sm", color="secondary"),
                ],
                className="d-flex gap-2 mb-2",
            ),
            dcc.Checklist(
                id=ids.INSPECTOR_TAGS,
                options=[{"label": t, "value": t} for t in CRITIQUE_TAGS],
                value=[],
                inline=True,
                inputClassName="me-1",
                labelClassName="me-2 small",
            ),
            dbc.Button("Tag", id=ids.TAG, size="sm", color="light", className="mt-1"),
            html.Div(id=ids.INSPECTOR_MESSAGE, className="mt-2 small"),
        ],
        id=ids.INSPECTOR,
        title="Candidate",
        # At the start: the map is in the right-hand column, and a click on its next point
        # must reach it (the panel at the end covered the map).
        placement="start",
        is_open=False,
        scrollable=True,
        # No backdrop: a click on the next point reaches the map and shows that candidate
        # here; the backdrop took that click and closed the panel instead.
        backdrop=False,
        style={"width": "420px"},
    )


def candidate_details(
    candidate: CandidateRecord,
    chain: Sequence[CandidateRecord],
    received: Sequence[str],
    prompt: str,
) -> list[Any]:
    """The inspector's details under its image: vector, lineage back to round 0, judgments."""
    vector = np.asarray(candidate.steering_vector)
    reason = candidate.sampler_metadata.get("reason") if candidate.sampler_metadata else None
    return [
        html.Div(
            [
                dbc.Badge(
                    shown_role(candidate.role),
                    color=role_colour(shown_role(candidate.role)),
                ),
                html.Span(
                    f" card {candidate.slot + 1} of round {candidate.round_index} · "
                    f"seed {candidate.seed}",
                    className="small",
                ),
            ],
            className="mt-2",
        ),
        html.Div(prompt, className="small text-muted"),
        html.Div(f"why proposed: {reason}", className="small") if reason else None,
        html.Div(
            [
                html.Span("steering vector ", className="small fw-semibold"),
                html.Code(
                    "[" + ", ".join(f"{v:+.3f}" for v in vector) + "]",
                    className="small steering-vector",
                ),
                html.Div(
                    f"distance from the prompt: {np.linalg.norm(vector):.3f}", className="small"
                ),
            ],
            className="mt-1",
        ),
        html.Div(
            [html.Span("judgments: ", className="small fw-semibold")]
            + (
                [
                    dbc.Badge(text, color="light", text_color="dark", className="me-1")
                    for text in received
                ]
                or [html.Span("none yet", className="small text-muted")]
            ),
            className="mt-1",
        ),
        html.Div("lineage, back to round 0", className="small fw-semibold mt-2"),
        html.Div(
            [
                html.Figure(
                    [
                        html.Img(
                            src=f"/{ancestor.image_path}" if ancestor.image_path else "",
                            className="lineage-thumb",
                            title=card_name(ancestor),
                            **{"data-action": "inspect", "data-candidate": str(ancestor.id)},
                        ),
                        html.Figcaption(f"r{ancestor.round_index}", className="small"),
                    ],
                    className="lineage-step",
                )
                for ancestor in chain
            ],
            className="lineage d-flex flex-wrap gap-1",
        ),
    ]
