"""The steering page on one screen: setup (folded while a session is open), the round's
grid with its toolbar and action bar, and the plots beside it (steering space, key curves)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import ids
from dashboard.layout import setup_defaults as defaults
from dashboard.layout.grid import shortcuts_list
from dashboard.layout.identity import fork_dialog, picker_label, rename_field
from dashboard.layout.plots import plots_column
from dashboard.layout.replay import counted
from dashboard.layout.space import inspector
from steering_core.config import PRESETS
from steering_core.feedback import CRITIQUE_TAGS, SESSION_MODES
from steering_core.hyperparameters import describe_parameters, example_settings, parameter_help
from steering_core.models import PREFERENCE_MODELS
from steering_core.registry import Registry
from steering_core.samplers import SAMPLERS


def _field(label: str, control: Any, hint: str = "") -> html.Div:
    children: list[Any] = [dbc.Label(label, className="mb-0 small fw-semibold"), control]
    if hint:
        children.append(dbc.FormText(hint))
    return html.Div(children, className="mb-2")


def _options(names: Sequence[str]) -> list[dict[str, str]]:
    return [{"label": name.replace("_", " "), "value": name} for name in names]


def _number(component_id: str, field: str, **props: Any) -> dbc.Input:
    """A number input for a SessionConfig field. It carries no min, max or step: a browser
    sends an empty value for a number outside them, so the session would silently take the
    default; the callback checks the config's bounds and names the field instead."""
    return dbc.Input(id=component_id, type="number", step="any", className="setup-number", **props)


def _number_field(label: str, component_id: str, field: str, **props: Any) -> html.Div:
    """A number input with its allowed range as the hint ("2-32")."""
    return _field(label, _number(component_id, field, **props), defaults.allowed_range(field))


def settings_field(label: str, box_id: str, registry: Registry[Any], name: str) -> html.Div:
    """A JSON settings box for the plug-in `name`: its placeholder is an example the plug-in
    accepts (every parameter at its default), its hint names the parameters, and hovering
    shows each one's meaning and allowed values, all from the plug-in's declarations."""
    parameters = ", ".join(spec.name for spec in describe_parameters(registry, name))
    field = _field(
        label,
        dbc.Input(id=box_id, placeholder=json.dumps(example_settings(registry, name))),
        f"JSON for {name.replace('_', ' ')}: {parameters or 'no parameters'}",
    )
    field.title = parameter_help(registry, name)
    return field


def setup_panel(
    generators: Sequence[str],
    samplers: Sequence[str],
    models: Sequence[str],
    sessions: Sequence[dict[str, Any]],
    current: str | None,
    session_sampler: str = defaults.SAMPLER,
    session_model: str = defaults.PREFERENCE_MODEL,
    session_name: str = "",
) -> dbc.Accordion:
    """New session, resume (and rename the open one, called `session_name`), and settings
    for the next round (of the open session, whose sampler and model are `session_sampler`
    and `session_model`)."""
    new_session = [
        _field("Prompt", dbc.Textarea(id=ids.PROMPT, rows=2, placeholder="a red circle ...")),
        _field("Name", dbc.Input(id=ids.SESSION_NAME, placeholder="optional")),
        _field("Negative prompt", dbc.Input(id=ids.NEGATIVE_PROMPT, placeholder="optional")),
        _field(
            "Preset",
            dbc.Select(
                id=ids.PRESET,
                options=[
                    {"label": f"{name} (d = {d})", "value": name} for name, d in PRESETS.items()
                ],
                value=defaults.preset(),
            ),
        ),
        dbc.Row(
            [
                dbc.Col(
                    _field(
                        "Generator",
                        dbc.Select(
                            id=ids.GENERATOR,
                            options=_options(generators),
                            value=defaults.default("generator").backend,
                        ),
                    )
                ),
                dbc.Col(
                    _field(
                        "Model folder",
                        dbc.Input(id=ids.MODEL_PATH, placeholder="built-in"),
                    )
                ),
            ],
            className="g-2",
        ),
        dbc.Row(
            [
                dbc.Col(
                    _field(
                        "Sampler",
                        dbc.Select(
                            id=ids.SAMPLER, options=_options(samplers), value=defaults.SAMPLER
                        ),
                    )
                ),
                dbc.Col(
                    _field(
                        "Preference model",
                        dbc.Select(
                            id=ids.PREFERENCE_MODEL,
                            options=_options(models),
                            value=defaults.PREFERENCE_MODEL,
                        ),
                    )
                ),
            ],
            className="g-2",
        ),
        _field(
            "Feedback mode",
            dbc.Select(
                id=ids.FEEDBACK_MODE,
                options=_options(SESSION_MODES),
                value=defaults.default("feedback_mode"),
            ),
        ),
        dbc.Row(
            [
                dbc.Col(_number_field("k", ids.K, "k", value=defaults.default("k"))),
                dbc.Col(_number_field("d", ids.D, "d", placeholder="auto")),
                dbc.Col(
                    _number_field("steps", ids.STEPS, "steps", value=defaults.default("steps"))
                ),
                dbc.Col(
                    _number_field(
                        "guidance",
                        ids.GUIDANCE,
                        "guidance_scale",
                        value=defaults.default("guidance_scale"),
                    )
                ),
            ],
            className="g-1",
        ),
        dbc.Button("Start session", id=ids.START, color="primary", className="w-100"),
        html.Div(id=ids.SETUP_MESSAGE, className="mt-2"),
    ]
    resume = [
        dcc.Dropdown(
            id=ids.SESSION_PICKER,
            options=[
                {"label": picker_label(s, counted(s["rounds"], "round")), "value": s["id"]}
                for s in sessions
            ],
            value=current,
            placeholder="a stored session",
        ),
        dbc.Button("Open", id=ids.RESUME, color="secondary", className="w-100 mt-2"),
        *([rename_field(session_name)] if current else []),
    ]
    settings = [
        _field(
            "Trust radius",
            _number(ids.TRUST_RADIUS, "trust_radius"),
            "how far new candidates may go from the incumbent "
            f"({defaults.allowed_range('trust_radius')})",
        ),
        settings_field("Sampler settings", ids.SAMPLER_PARAMS, SAMPLERS, session_sampler),
        settings_field("Model settings", ids.MODEL_PARAMS, PREFERENCE_MODELS, session_model),
        dbc.Button("Apply to the next round", id=ids.APPLY_SETTINGS, className="w-100"),
        html.Div(id=ids.SETTINGS_MESSAGE, className="mt-2"),
    ]
    return dbc.Accordion(
        [
            dbc.AccordionItem(new_session, title="New session", item_id="new"),
            dbc.AccordionItem(resume, title="Open a session", item_id="resume"),
            dbc.AccordionItem(settings, title="Settings for the next round", item_id="settings"),
        ],
        active_item="resume" if current else "new",
        always_open=True,
    )


def judging_bar() -> html.Div:
    """Controls that apply to the whole round: confidence, critique, reject-all, submit."""
    return html.Div(
        [
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Label("Confidence", className="small mb-0"),
                            dcc.Slider(
                                id=ids.CONFIDENCE,
                                min=0,
                                max=1,
                                step=0.1,
                                value=1,
                                marks={0: "0", 0.5: "0.5", 1: "1"},
                            ),
                        ],
                        md=3,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Critique", className="small mb-0"),
                            dcc.Checklist(
                                id=ids.CRITIQUE_TAGS,
                                options=[{"label": t, "value": t} for t in CRITIQUE_TAGS],
                                value=[],
                                inline=True,
                                inputClassName="me-1",
                                labelClassName="me-2 small",
                            ),
                            dbc.Input(
                                id=ids.CRITIQUE_TEXT,
                                placeholder="a note (optional)",
                                size="sm",
                                debounce=False,
                            ),
                        ],
                        md=5,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Reject-all reason", className="small mb-0"),
                            dbc.Input(id=ids.REJECT_REASON, placeholder="optional", size="sm"),
                        ],
                        md=4,
                    ),
                ],
                className="g-2 align-items-end",
            ),
            html.Div(
                [
                    html.Button("Submit ⏎", className="btn btn-primary", **_act("submit")),
                    html.Button("Reject all (x)", className="btn btn-danger", **_act("reject-all")),
                    html.Button(
                        "Cannot decide (c)", className="btn btn-warning", **_act("cannot-decide")
                    ),
                    html.Button(
                        "Send critique", className="btn btn-outline-secondary", **_act("critique")
                    ),
                    # The mode in use's own buttons (grid.round_controls), with the grid.
                    html.Div(id=ids.MODE_CONTROLS, className="d-flex gap-2"),
                    html.Button("Clear (Esc)", className="btn btn-light", **_act("clear")),
                    html.Button("Undo step ⌫", className="btn btn-light", **_act("undo")),
                ],
                className="d-flex flex-wrap gap-2 mt-2",
            ),
            html.Div(id=ids.DRAFT_SUMMARY, className="draft-summary small mt-2"),
            html.Div(id=ids.OUTBOX_STATUS, className="outbox-status small"),
        ],
        className="judging-bar border rounded p-2 mb-2",
    )


def _act(action: str) -> dict[str, str]:
    return {"data-action": action}


def progress_panel() -> html.Div:
    """The worker's phase, step, timing and a cancel button."""
    return html.Div(
        [
            dbc.Progress(id=ids.PROGRESS_BAR, value=0, className="mb-1", style={"height": "6px"}),
            html.Div(
                [
                    html.Span(id=ids.PROGRESS_TEXT, className="small text-muted"),
                    dbc.Button(
                        "Cancel",
                        id=ids.CANCEL,
                        size="sm",
                        color="link",
                        className="py-0 ms-2",
                        style={"display": "none"},
                    ),
                ],
                className="d-flex align-items-center",
            ),
        ],
        id=ids.PROGRESS,
        className="mb-2",
    )


def round_toolbar(mode: str | None) -> html.Div:
    """Round navigation, the feedback-mode switch, auto-advance and 'next round'."""
    return html.Div(
        [
            dbc.ButtonGroup(
                [
                    dbc.Button("◀", id=ids.ROUND_PREV, size="sm", color="light", title="Alt+←"),
                    dbc.Button(
                        "round -", id=ids.ROUND_LABEL, size="sm", color="light", disabled=True
                    ),
                    dbc.Button("▶", id=ids.ROUND_NEXT, size="sm", color="light", title="Alt+→"),
                ]
            ),
            dbc.Select(
                id=ids.MODE_SWITCH,
                options=_options(SESSION_MODES),
                value=mode,
                size="sm",
                style={"width": "11rem"},
            ),
            dbc.Switch(id=ids.AUTO_ADVANCE, label="next round after each judgment", value=True),
            dbc.Button("Next round", id=ids.NEXT_ROUND, size="sm", color="primary"),
            dbc.ButtonGroup(
                [
                    dbc.Button(
                        "Draft funnel: wide round (20)",
                        id=ids.FUNNEL_START,
                        size="sm",
                        color="secondary",
                        outline=True,
                        title="20 candidates; approve the ones to keep (at most 8, then 3, then 1)",
                    ),
                    # judging.js stores the judgment on screen first, then asks for the stage.
                    html.Button(
                        "Next funnel stage",
                        id=ids.FUNNEL_NEXT,
                        className="btn btn-sm btn-outline-secondary",
                        title="stores the judgment on screen, then varies what you approved",
                        **_act("next-stage"),
                    ),
                ]
            ),
            # Its label names the stored judgment it withdraws (callbacks/judging.py); here,
            # beside the round's other actions, so the action bar keeps to two lines.
            html.Button(
                "Undo judgment",
                id=ids.UNDO_JUDGMENT,
                className="btn btn-sm btn-outline-danger",
                disabled=True,
                **_act("withdraw"),
            ),
            html.Span(id=ids.ROUND_MESSAGE, className="small"),
        ],
        className="d-flex flex-wrap align-items-center gap-3 mb-2",
    )


def setup_column(setup: dbc.Accordion, folded: bool) -> html.Aside:
    """The setup (new session, open a session, settings), in a column that folds to a
    narrow rail so that the round has the width."""
    return html.Aside(
        [
            html.Button(
                "⚙ Setup",
                id=ids.SETUP_TOGGLE,
                className="btn btn-sm btn-light setup-toggle",
                title="show or hide the setup: new session, open a session, settings",
                **{"data-layout": "toggle-setup"},
            ),
            html.Div(setup, className="setup-body"),
        ],
        className="setup-column",
    )


def round_column(title: str, mode: str | None) -> html.Main:
    """The round: title and progress, the toolbar, the mode, the grid (which takes the height
    that is left, its thumbnails scaled to fit) and the action bar below it, always in view."""
    return html.Main(
        [
            html.Div(
                [
                    html.Div(
                        [
                            html.H5(title, id=ids.SESSION_TITLE, className="mb-0"),
                            html.Div(id=ids.SESSION_STATUS, className="session-status small"),
                        ],
                        className="round-title",
                    ),
                    # Folded to one line; open (? or a click), it lies over the grid.
                    shortcuts_list(),
                    progress_panel(),
                ],
                className="round-head",
            ),
            html.Div(round_toolbar(mode), className="round-toolbar"),
            html.Div(id=ids.MODE_BANNER),
            dcc.Loading(
                html.Div(id=ids.GRID),
                type="dot",
                delay_show=400,
                parent_className="grid-slot",
            ),
            html.Div(judging_bar(), className="action-bar"),
        ],
        className="round-column",
    )


def steer_page(
    session_id: str | None,
    title: str,
    setup: dbc.Accordion,
    mode: str | None = None,
    round_index: int | None = None,
) -> html.Div:
    """The whole steering page, showing `round_index` (None: the latest), on one screen:
    setup (folded while a session is open), the round, and the plots beside it; the grid,
    figures and progress fill in by callbacks."""
    folded = session_id is not None
    return html.Div(
        [
            dcc.Store(id=ids.SESSION, data={"session_id": session_id}),
            dcc.Store(id=ids.VIEW, data={"session_id": session_id, "round_index": round_index}),
            dcc.Store(id=ids.VERSION, data=None),
            dcc.Store(id=ids.JOB, data=None),
            dcc.Store(id=ids.DRAFT, data=None),
            dcc.Store(id=ids.OUTBOX, data=None),
            dcc.Store(id=ids.INSPECTED, data=None),
            dcc.Store(id=ids.SPACE_ZOOM, data=None),
            dcc.Store(id=ids.INSPECTOR_DETAILS, data=None),
            dcc.Store(id=ids.FUNNEL_REQUEST, data=None),
            # The mode in use before a funnel, for its end (survives a reload of this tab).
            dcc.Store(id=ids.FUNNEL_BEFORE, storage_type="session"),
            dcc.Store(id=ids.MORE_LIKE_REQUEST, data=None),
            dcc.Interval(id=ids.POLL, interval=2000),
            html.Div(
                [setup_column(setup, folded), round_column(title, mode), plots_column()],
                id=ids.STEER_LAYOUT,
                className="steer-layout" + (" setup-folded" if folded else ""),
            ),
            inspector(),
            fork_dialog(),
        ],
        className="steer-page",
    )
