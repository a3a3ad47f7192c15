"""Compressed responses: the page's HTML, JSON, JS and CSS as the browser accepts them.

flask-compress compresses every response of a compressible type (zstd, br, gzip or deflate,
whichever the browser accepts first in that order; PNG images are left as they are). The
packages' bundles under /_dash-component-suites/ (plotly.js alone is 4.8 MB) never change
while the server runs, so each is compressed once per encoding and kept in memory; every
other response (callbacks, /api replies) is compressed afresh, never cached.
"""

from __future__ import annotations

import flask
from flask_compress import Compress

# Dash serves the installed packages' files (React, Dash, plotly.js...) here.
BUNDLES = "/_dash-component-suites/"
# flask-compress's cache keys are "<encoding>;<our key>": ours is the bundle's path, or
# this for a response that must not be cached.
NOT_CACHED = "-"


def bundle_key(request: flask.Request) -> str:
    """The cache key of a response: the path of a bundle (its version is in the name, and
    no query string makes a new entry), else `NOT_CACHED`."""
    return request.path if request.path.startswith(BUNDLES) else NOT_CACHED


class BundleCache:
    """The compressed bundles, by encoding and path: a few MB, bounded by the files the
    installed packages register with Dash."""

    def __init__(self) -> None:
        self.compressed: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.compressed.get(key)

    def set(self, key: str, value: bytes) -> None:
        if not key.endswith(f";{NOT_CACHED}"):
            self.compressed[key] = value


def compress(server: flask.Flask) -> Compress:
    """Compress `server`'s responses (see the module's docstring)."""
    server.config.update(
        COMPRESS_ALGORITHM=["zstd", "br", "gzip", "deflate"],
        COMPRESS_CACHE_KEY=bundle_key,
        COMPRESS_CACHE_BACKEND=BundleCache,
    )
    return Compress(server)
