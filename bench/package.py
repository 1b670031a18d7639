"""9. The deployment package: size, and cold imports from it with the bytecode it ships against sources only."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from .common import TEST_ENV, Report

NAME = "package"

PACKAGE_IMPORT_SCRIPT = """
import time
started = time.perf_counter()
import app
imported = time.perf_counter()
import chalicelib.services.deliver, chalicelib.channels.twilio_sms, chalicelib.channels.sendgrid_email
import twilio.rest, sendgrid, chalicelib.api.schemas, chalicelib.web.templating
print(imported - started, time.perf_counter() - started)
"""


def run(report: Report, rounds: int = 5) -> None:
    """The deployment package as Lambda runs it (boto3 from the runtime, the rest from the zip, `-S`), importing
    the app and everything a delivery needs, with the bytecode the package ships against the same zip without it."""
    import shutil
    import zipfile

    from infra.package import build, link_runtime_provided, lint, precompile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        out = build("prod", root / "prod", bytecode=False)
        lint(out / "sam.json")
        plain_size = (out / "deployment.zip").stat().st_size
        compiled = precompile(out)
        size = (out / "deployment.zip").stat().st_size
        with zipfile.ZipFile(out / "deployment.zip") as archive:
            archive.extractall(root / "with")
        shutil.copytree(root / "with", root / "without")
        for cache in list((root / "without").rglob("__pycache__")):
            shutil.rmtree(cache)
        provided = link_runtime_provided(root / "provided")
        timings: dict[str, list[tuple[float, float]]] = {"with": [], "without": []}
        for _ in range(rounds):
            for variant in timings:
                env = {
                    "PYTHONPATH": f"{root / variant}:{provided}",
                    "PYTHONDONTWRITEBYTECODE": "1",  # /var/task is read-only in Lambda: nothing gets cached
                    "PATH": "/usr/bin:/bin",
                    **TEST_ENV,
                }
                out_text = subprocess.run(
                    [sys.executable, "-S", "-c", PACKAGE_IMPORT_SCRIPT],
                    cwd=root,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.split()
                timings[variant].append((float(out_text[0]), float(out_text[1])))

    def median(variant: str, index: int) -> float:
        return statistics.median(row[index] for row in timings[variant]) * 1000

    print(f"9. Deployment package (make package STAGE=prod), imported as Lambda would, median of {rounds}")
    print(
        f"   size {size / 1e6:.1f} MB zipped with {compiled} precompiled modules "
        f"({plain_size / 1e6:.1f} MB as Chalice builds it, sources only)"
    )
    for index, label in ((0, "import app"), (1, "+ everything a delivery imports")):
        shipped, bare = median("with", index), median("without", index)
        ratio = shipped / bare
        print(f"   {label:<32} with bytecode {shipped:5.0f} ms | sources only {bare:5.0f} ms   ratio {ratio:.2f}x")
        report.add(
            f"package.{'app' if index == 0 else 'delivery'}_import",
            f"Imports from the deployment zip as Lambda runs it, {label}",
            shipped,
            "ms",
            baseline=bare,
            ratio=ratio,
            detail="baseline: the same zip without its bytecode",
        )
    report.add(
        "package.size",
        "Deployment package, zipped",
        size / 1e6,
        "MB",
        baseline=plain_size / 1e6,
        ratio=size / plain_size,
        detail=f"{compiled} precompiled modules; baseline: sources only",
    )
