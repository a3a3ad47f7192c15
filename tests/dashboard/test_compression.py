"""Compressed responses: plotly.js and the other bundles in the encoding the browser accepts,
compressed once, and a reload does not fetch them again; JSON replies compressed afresh."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
import plotly
import pytest
from backports import zstd
from flask_compress import flask_compress

from dashboard.app import create_app
from dashboard.state import DashboardState
from steering_core.config import SessionConfig
from steering_core.sessions import create_session
from tests.steering_core.helpers import blank_round

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
# As dcc.Graph asks for it (loaded when the first graph is drawn; no version in the name).
PLOTLY_URL = "/_dash-component-suites/plotly/package_data/plotly.min.js"
DECODE = {"gzip": gzip.decompress, "br": brotli.decompress, "zstd": zstd.decompress}


@pytest.fixture
def client(state: DashboardState):  # noqa: ANN201
    test_client = create_app(state).server.test_client()
    assert test_client.get("/").status_code == 200  # Dash registers its bundles' paths
    return test_client


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_plotly_js_is_compressed_when_the_browser_accepts_it(client: object, encoding: str) -> None:
    reply = client.get(PLOTLY_URL, headers={"Accept-Encoding": encoding})
    assert reply.status_code == 200
    assert reply.headers["Content-Encoding"] == encoding
    assert len(reply.data) < PLOTLY_JS.stat().st_size / 2
    assert DECODE[encoding](reply.data) == PLOTLY_JS.read_bytes()
    assert "Accept-Encoding" in reply.headers["Vary"]


def test_a_reload_does_not_fetch_plotly_js_again(client: object) -> None:
    # The browser keeps it with its ETag and asks again with If-None-Match: nothing is sent.
    accepts = {"Accept-Encoding": "gzip, deflate, br, zstd"}
    first = client.get(PLOTLY_URL, headers=accepts)
    etag = first.headers["ETag"]
    again = client.get(PLOTLY_URL, headers={**accepts, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_bundles_named_with_their_version_are_kept_for_a_year(client: object) -> None:
    page = client.get("/").get_data(as_text=True)
    bundles = re.findall(r'src="(/_dash-component-suites/[^"]+\.v[^"]+\.js)"', page)
    assert bundles
    for url in bundles:
        reply = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
        assert reply.headers["Content-Encoding"] == "zstd", url
        assert reply.cache_control.max_age == 31536000, url


def test_chromiums_accept_encoding_gets_zstd_and_none_gets_plain_js(client: object) -> None:
    chromium = client.get(PLOTLY_URL, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert chromium.headers["Content-Encoding"] == "zstd"
    plain = client.get(PLOTLY_URL)
    assert "Content-Encoding" not in plain.headers
    assert plain.data == PLOTLY_JS.read_bytes()


def test_a_bundle_is_compressed_once_per_encoding(
    client: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = flask_compress._compress_data

    def counted(app: object, data: bytes, algorithm: str) -> bytes:
        calls.append(algorithm)
        return original(app, data, algorithm)

    monkeypatch.setattr(flask_compress, "_compress_data", counted)
    replies = [client.get(PLOTLY_URL, headers={"Accept-Encoding": "gzip"}) for _ in range(3)]
    assert calls == ["gzip"]
    assert all(gzip.decompress(r.data) == PLOTLY_JS.read_bytes() for r in replies)


def test_json_api_replies_are_compressed_and_never_cached(
    state: DashboardState, client: object, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    _, shown = blank_round(state.workspace, session.id)

    def batch(prefix: str) -> list[dict[str, object]]:
        # Enough judgments that the reply (their keys and event ids) is worth compressing.
        return [
            {
                "key": f"{prefix}-judgment-{i:03d}",
                "session_id": session.id,
                "round_index": 0,
                "raw": {"mode": "winner", "winner": shown[i % len(shown)].id},
            }
            for i in range(30)
        ]

    replies = []
    for prefix in ("first", "second"):
        reply = client.post(
            "/api/feedback", json={"items": batch(prefix)}, headers={"Accept-Encoding": "gzip"}
        )
        assert reply.status_code == 200
        assert reply.headers["Content-Encoding"] == "gzip"
        replies.append(gzip.decompress(reply.data).decode())
    # Each reply is its own, not the first one's compressed bytes again.
    assert "first-judgment-029" in replies[0] and "second-judgment-029" in replies[1]
    assert "first-judgment" not in replies[1]


def test_dash_layout_json_is_compressed(client: object) -> None:
    reply = client.get("/_dash-layout", headers={"Accept-Encoding": "br"})
    assert reply.mimetype == "application/json"
    assert reply.headers["Content-Encoding"] == "br"
    assert brotli.decompress(reply.data).startswith(b"{")


def test_images_are_sent_as_they_are(state: DashboardState, client: object) -> None:
    # PNG is compressed already: compressing it again costs time and saves nothing.
    folder = state.workspace.data_root / "images" / "s1"
    folder.mkdir(parents=True)
    (folder / "c00.png").write_bytes(b"\x89PNG" + b"\0" * 4000)
    reply = client.get("/images/s1/c00.png", headers={"Accept-Encoding": "gzip, br, zstd"})
    assert reply.status_code == 200 and "Content-Encoding" not in reply.headers
