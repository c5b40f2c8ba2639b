"""Running the product's command line as a subprocess on a test's database."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def product_env(database_url: str, instance: Path) -> dict[str, str]:
    """The environment of a command: this test's database and instance directory only."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HSM_")}
    return env | {"HSM_DATABASE_URL": database_url, "HSM_INSTANCE_DIR": str(instance), "PYTHONUNBUFFERED": "1"}


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "hsm_workflow", *args]


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(command(*args), env=env, capture_output=True, text=True, timeout=120)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
