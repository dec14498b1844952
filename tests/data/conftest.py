"""Fixtures for companion.data: an isolated cache, no network, a local HTTP server, tiny files.

Every test here runs with ``XDG_CACHE_HOME`` in its own ``tmp_path``, without
``COMPANION_DATA_DIR``/``COMPANION_OFFLINE``, with Debian's ``/usr/share/datasets`` replaced by
an empty folder, and with downloads allowed only from 127.0.0.1.
"""

from __future__ import annotations

import urllib.parse

import pytest
from data_fixtures import LOCALHOST, LocalServer

from companion.data import download, sources


@pytest.fixture(autouse=True)
def isolated_data_env(monkeypatch, tmp_path):
    """Point the user cache into tmp_path, forget the real data folders, and forbid the network."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(sources.DATA_DIR_VARIABLE, raising=False)
    monkeypatch.delenv(sources.OFFLINE_VARIABLE, raising=False)
    monkeypatch.setattr(sources, "SYSTEM_DATA_ROOT", tmp_path / "usr-share-datasets")
    real_urlopen = download._urlopen
    opened: list[str] = []

    def local_only(url, timeout):
        host = urllib.parse.urlsplit(url).hostname
        if host != LOCALHOST:
            raise AssertionError(f"a test tried to reach {url}; tests may only use {LOCALHOST}")
        opened.append(url)
        return real_urlopen(url, timeout)

    monkeypatch.setattr(download, "_urlopen", local_only)
    return opened


@pytest.fixture
def server():
    """A local HTTP server on 127.0.0.1; set ``server.routes[path] = body``."""
    local = LocalServer()
    local.thread.start()
    yield local
    local.server.shutdown()
    local.server.server_close()
