"""`spamops data fetch`: offline, served from a local HTTP server, checksum mismatch."""

from __future__ import annotations

import http.server
import io
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ml.errors import DatasetFetchError
from ml.fetch import fetch_dataset, file_sha256
from spamops.settings import Settings

UNREACHABLE = "http://127.0.0.1:9/sms+spam+collection.zip"  # discard port: refused


def _zip(member: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme", "test archive")
        zf.writestr(member, data)
    return buf.getvalue()


@pytest.fixture
def serve() -> Iterator[Callable[[bytes], str]]:
    """Serve bytes at http://127.0.0.1:<port>/archive.zip from a thread."""
    servers: list[http.server.HTTPServer] = []

    def start(body: bytes) -> str:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/archive.zip"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _settings(make_settings: Callable[..., Settings], url: str) -> Settings:
    return make_settings(model={"data_url": url, "download_timeout_s": 2})


def test_offline_says_so_and_where_to_put_the_file(make_settings: Callable[..., Settings]) -> None:
    settings = _settings(make_settings, UNREACHABLE)
    with pytest.raises(DatasetFetchError) as info:
        fetch_dataset(settings)
    message = str(info.value)
    assert "looks offline" in message
    assert str(settings.dataset_path) in message
    assert "7d039a24" in message
    assert not settings.dataset_path.exists()


def test_downloads_extracts_and_verifies(
    make_settings: Callable[..., Settings], serve: Callable[[bytes], str], dataset_path: Path
) -> None:
    url = serve(_zip("SMSSpamCollection", dataset_path.read_bytes()))
    settings = _settings(make_settings, url)
    result = fetch_dataset(settings)
    assert result.downloaded
    assert result.path == settings.dataset_path
    assert file_sha256(result.path) == settings.model.dataset_sha256
    again = fetch_dataset(settings)  # verified copy in place: no download
    assert not again.downloaded


def test_checksum_mismatch_writes_nothing(
    make_settings: Callable[..., Settings], serve: Callable[[bytes], str]
) -> None:
    settings = _settings(make_settings, serve(_zip("SMSSpamCollection", b"ham\ttampered\n")))
    with pytest.raises(DatasetFetchError, match=r"has sha256 .* expected 7d039a24"):
        fetch_dataset(settings)
    assert not settings.dataset_path.exists()


def test_not_a_zip(make_settings: Callable[..., Settings], serve: Callable[[bytes], str]) -> None:
    settings = _settings(make_settings, serve(b"<html>moved</html>"))
    with pytest.raises(DatasetFetchError, match="did not return a zip archive"):
        fetch_dataset(settings)
