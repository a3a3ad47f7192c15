"""Build the Dash app over a workspace and a worker, and serve it on localhost."""

from __future__ import annotations

import logging
from pathlib import Path

import dash

from dashboard import api, compression, ids
from dashboard.callbacks import (
    diagnostics,
    experiments,
    identity,
    judging,
    navigation,
    plots,
    progress,
    session,
    space,
)
from dashboard.layout.shell import shell
from dashboard.state import DashboardState
from steering_core.errors import error_kind
from steering_core.storage.workspace import Workspace
from steering_core.worker import Worker

logger = logging.getLogger(__name__)
ASSETS = Path(__file__).resolve().parent.parent / "assets"


def report_callback_error(error: Exception) -> None:
    """Any exception a callback did not handle: logged, and shown in the page's error toast
    (the outputs keep their values), so that nothing breaks the page."""
    logger.exception("dashboard: a callback failed", exc_info=error)
    kind = error_kind(error)
    dash.set_props(
        ids.ERROR_TOAST,
        {"is_open": True, "header": f"{kind.capitalize()} failure", "children": str(error)},
    )


def create_app(state: DashboardState) -> dash.Dash:
    """The dashboard app: its layout, callbacks and routes, over `state`."""
    app = dash.Dash(
        __name__,
        title="StableSteering",
        assets_folder=str(ASSETS),
        suppress_callback_exceptions=True,  # pages are built on navigation
        update_title=None,  # no "Updating..." flicker in the tab while polling
        # Offline: Dash and Plotly come from the packages, Bootstrap's CSS from assets/.
        serve_locally=True,
        on_error=report_callback_error,
    )
    # The scripts in assets/ read the component ids from the page, so they spell none.
    app.index_string = app.index_string.replace(
        "{%scripts%}", f"<script>{ids.javascript()}</script>\n{{%scripts%}}"
    )
    app.layout = shell
    # Not Dash's `compress=True`: it compresses plotly.js (4.8 MB) again for every page load.
    compression.compress(app.server)
    api.register(app.server, state)
    concerns = (
        navigation,
        session,
        judging,
        progress,
        diagnostics,
        space,
        plots,
        experiments,
        identity,
    )
    for concern in concerns:
        concern.register(app, state)
    return app


def serve(
    data_root: Path | None = None,
    labels_dir: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8050,
    debug: bool = False,
) -> None:
    """Open the workspace, start the worker thread and serve the dashboard until stopped."""
    workspace = Workspace.open(data_root, labels_dir)
    worker = Worker(workspace).start()
    state = DashboardState(workspace=workspace, worker=worker)
    app = create_app(state)
    # Werkzeug logs every poll request; the researcher's terminal is for errors.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    try:
        app.run(host=host, port=port, debug=debug, use_reloader=False, threaded=True)
    finally:
        worker.stop(timeout=5)
