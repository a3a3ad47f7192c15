"""The frame around every page: navigation bar, URL, the page slot and shared stores."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import ids

PAGES = (("Steer", "/"), ("Replay", "/replay"), ("Experiments", "/experiments"))
PAGES += (("Diagnostics", "/diagnostics"),)


def shell() -> html.Div:
    """The app's layout (a function, so every page load gets fresh components)."""
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh=False),
            dbc.Navbar(
                dbc.Container(
                    [
                        dbc.NavbarBrand("StableSteering", href="/"),
                        dbc.Nav(
                            [
                                dbc.NavItem(dbc.NavLink(name, href=href, active="exact"))
                                for name, href in PAGES
                            ],
                            id=ids.NAV,
                            navbar=True,
                        ),
                    ],
                    fluid=True,
                ),
                color="dark",
                dark=True,
                className="mb-2 py-1",
            ),
            dbc.Container(id=ids.PAGE, fluid=True),
            dbc.Toast(
                id=ids.ERROR_TOAST,
                header="Error",
                icon="danger",
                is_open=False,
                dismissable=True,
                style={
                    "position": "fixed",
                    "bottom": 16,
                    "right": 16,
                    "width": 420,
                    "zIndex": 2000,
                },
            ),
        ]
    )
