"""``hsm-workflow serve`` as deployed: a subprocess on a free port, asked over real HTTP."""
from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from .processes import command, free_port, product_env

STARTUP_SECONDS = 30


def _get(url: str):
    """The response (or HTTP error, which carries headers too) for ``url``."""
    try:
        return urllib.request.urlopen(url, timeout=5)
    except urllib.error.HTTPError as error:
        return error


@pytest.fixture
def served(runtime, settings, tmp_path) -> Iterator[str]:
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(command("serve", "--host", "127.0.0.1", "--port", str(port), "--no-scheduler"),
                                   env=product_env(settings.database_url, tmp_path / "instance"),
                                   stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"serve did not answer:\n{log.read_text()}")
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_no_response_of_the_served_app_names_werkzeug_or_python(served):
    for path in ("/health", "/login", "/static/style.css", "/no-such-page", "/cases/HSM-2026-0001"):
        response = _get(served + path)
        assert response.headers.get_all("Server") == ["hsm-workflow"], path
    health = _get(served + "/health")
    assert health.read().strip() == b'{"status":"ok"}'
