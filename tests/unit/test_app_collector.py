"""The app pauses the garbage collector while a cold process loads (D49): it must always come back on."""

from __future__ import annotations

import os
import subprocess
import sys

from infra.package import ROOT

SCRIPT = """
import gc, app
paused = not gc.isenabled()
from chalice.test import Client
with Client(app.app) as client:
    status = client.http.get("/v1/openapi.json").status_code
print(paused, gc.isenabled(), gc.get_freeze_count() > 0, status)
"""


def test_the_collector_is_paused_while_loading_and_back_after_the_first_invocation() -> None:
    env = {key: value for key, value in os.environ.items() if key != "SERVES_HTTP"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["True", "True", "True", "200"]
