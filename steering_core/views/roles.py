"""How the dashboard and the HTML report badge each candidate role (Bootstrap's contextual
colours); the roles themselves are the samplers' (`samplers.base.ROLES`)."""

from __future__ import annotations

ROLE_BADGE_COLOURS = {
    "incumbent": "primary",
    "baseline": "secondary",
    "exploit": "success",
    "explore": "info",
    "challenger": "warning",
    "probe": "dark",
    "kept": "primary",
    "variation": "info",
}


def role_colour(role: str) -> str:
    """The badge colour of a role; "light" for a role without one."""
    return ROLE_BADGE_COLOURS.get(role, "light")
