"""Test support: a fixture under which any attempt to reach the network, or torch's hub, fails the test."""

from __future__ import annotations

import socket

import pytest
import torch


@pytest.fixture
def no_network(monkeypatch):
    """Sockets and torch's hub downloads raise: weights must come from local files or installed packages."""

    def refuse(*args, **kwargs):
        raise AssertionError("the network was used (a download was attempted)")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)
