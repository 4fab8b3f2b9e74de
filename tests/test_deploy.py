"""The container recipe and the balancer example, checked as far as this machine allows (no
Docker engine here): every file they name exists, and they keep the settings they rely on."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_dockerfile_copies_what_exists_and_runs_the_app():
    text = (ROOT / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (\S+) ", text, re.M):
        assert (ROOT / source).exists(), source
    assert re.search(r"^FROM python:3\.11", text, re.M)
    cmd = re.search(r"^CMD (.+)$", text, re.M).group(1)
    assert "app.serve" in cmd and (ROOT / "app" / "serve.py").exists()
    assert "/_stcore/health" in text and "USER " in text


def test_balancer_keeps_sessions_sticky_and_passes_websockets():
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "ip_hash" in text or "hash $cookie" in text
    assert "proxy_set_header Upgrade $http_upgrade" in text
    assert 'proxy_set_header Connection "upgrade"' in text
