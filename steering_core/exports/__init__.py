"""Exports of a session: trace, replay JSON, HTML report, bundle, retention."""
