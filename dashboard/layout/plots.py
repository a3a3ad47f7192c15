"""The steering page's side column: a compact steering space and the two key curves, which
'expand' (or the key m) turns into a full-screen view of the large map and every curve."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import ids
from dashboard.layout.space import GRAPH_CONFIG, curves_panel, space_panel

EXPAND_TEXT = "Expand ⤢ (p)"


def key_curves_panel() -> dbc.Card:
    """The two key curves (`figures.key_curves`), as tall as the column leaves them."""
    return dbc.Card(
        [
            dbc.CardHeader(html.Strong("Is it learning?"), className="py-1"),
            dbc.CardBody(
                dcc.Graph(id=ids.KEY_CURVES, config=GRAPH_CONFIG, responsive=True),
                className="p-1",
            ),
        ],
        className="key-curves",
    )


def plots_column() -> html.Aside:
    """The side column: compact space and key curves; the full curves and label statistics
    show only when expanded (assets/layout.js toggles the `expanded` class)."""
    return html.Aside(
        [
            html.Div(
                [
                    html.Strong("Plots", className="me-auto"),
                    html.Button(
                        EXPAND_TEXT,
                        id=ids.EXPAND_PLOTS,
                        className="btn btn-sm btn-outline-secondary py-0",
                        title="the large steering space and every curve (m; Esc closes)",
                        **{"data-layout": "toggle-plots"},
                    ),
                ],
                className="plots-head d-flex align-items-center",
            ),
            html.Div(space_panel(), className="space-slot"),
            key_curves_panel(),
            html.Div(curves_panel(), className="full-curves"),
        ],
        id=ids.PLOTS,
        className="plots-column",
    )
