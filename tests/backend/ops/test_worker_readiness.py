"""A worker reports ready only when the rest of the system can see it (its heartbeat row)."""

from __future__ import annotations

import pytest

from core import heartbeat
from ops import worker_http


@pytest.mark.django_db(transaction=True)
def test_a_consuming_worker_is_not_ready_before_its_first_heartbeat(monkeypatch):
    monkeypatch.setitem(worker_http._state, "ready", True)
    monkeypatch.setattr(heartbeat, "_beaten", type(heartbeat._beaten)())
    body, ready = worker_http.readiness()
    assert body["consuming"] == {"ok": True} and body["heartbeat"] == {"ok": False}
    assert not ready

    heartbeat._beaten.set()
    body, ready = worker_http.readiness()
    assert body["heartbeat"] == {"ok": True}
    assert ready, body
