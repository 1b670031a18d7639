"""Build the deployable artefacts offline-ready: `chalice package` merged with infra/resources.json, then cfn-lint.

    python -m infra.package --stage dev [--out build/dev]

Chalice zips only app.py, chalicelib/ and vendor/: the top-level `templates/` folder is added to the zip here (D34).
The gettext catalogs are compiled first (chalicelib/locale/*/LC_MESSAGES/*.mo, build output), so the zip carries
the .mo files the runtime reads (D38).
Fails (exit 1) when Chalice could not install a dependency (it prints that and still exits 0) or cfn-lint finds
errors. The output directory holds `deployment.zip` and `sam.json` for `aws cloudformation package/deploy`.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The compiled built-in templates' folder inside templates/ (chalicelib/web/templating.py:COMPILED_ROOT).
COMPILED_DIR = "_compiled"
#: What the Lambda Python runtime provides, so the zip leaves it out: boto3 and its dependencies.
LAMBDA_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")
#: What Chalice installs only because pynamodb needs botocore (D1), which the runtime provides: left out of the zip
#: (jmespath and urllib3 stay, other dependencies bring them too, as before).
LEFT_OUT = ("botocore", "dateutil", "six.py", "botocore-", "python_dateutil-", "six-")


def build(stage: str, out: Path, bytecode: bool = True) -> Path:
    """`chalice package` into `out`; with `bytecode`, the zip also carries precompiled modules (see precompile)."""
    shutil.rmtree(ROOT / ".chalice" / "deployments", ignore_errors=True)  # Chalice caches zips by content
    shutil.rmtree(out, ignore_errors=True)
    compile_translations()
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    chalice = Path(sys.executable).with_name("chalice")
    result = subprocess.run(
        [
            str(chalice),
            "package",
            "--stage",
            stage,
            "--pkg-format",
            "cloudformation",
            "--merge-template",
            str(ROOT / "infra" / "resources.json"),
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    if result.returncode != 0 or "Could not install dependencies" in output:
        raise SystemExit(f"chalice package failed:\n{output}")
    leave_out_runtime_provided(out)
    add_templates(out)
    add_compiled_templates(out)
    if bytecode:
        precompile(out)
    return out


def compile_translations(locale_root: Path = ROOT / "chalicelib" / "locale") -> int:
    """Compile every locale's .po into the .mo beside it (what `make translations` does); returns how many.

    Babel is a build tool: the Lambda reads the .mo files with the standard library's gettext. A fuzzy or empty
    message is left out of the .mo (the runtime then shows the English msgid); tests/unit/test_translations.py
    fails on either before a package is built.
    """
    catalogs = sorted(locale_root.glob("*/LC_MESSAGES/*.po"))
    if not catalogs:
        raise SystemExit(f"no catalogs found under {locale_root}")
    pybabel = Path(sys.executable).with_name("pybabel")
    for po in catalogs:
        locale = po.parent.parent.name
        result = subprocess.run(
            [str(pybabel), "compile", "-l", locale, "-i", str(po), "-o", str(po.with_suffix(".mo"))],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise SystemExit(f"pybabel compile failed for {po}:\n{result.stdout}{result.stderr}")
    return len(catalogs)


def leave_out_runtime_provided(out: Path) -> int:
    """Drop from deployment.zip the packages in LEFT_OUT (top-level folders, modules and their dist-info); returns
    how many entries were dropped. The runtime's own botocore is what the handlers import, as boto3's used to be."""
    archive_path = out / "deployment.zip"
    with zipfile.ZipFile(archive_path) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    kept = [(info, data) for info, data in entries if not _left_out(info.filename)]
    with zipfile.ZipFile(archive_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info, data in kept:
            archive.writestr(info, data)
    return len(entries) - len(kept)


def _left_out(name: str) -> bool:
    top = name.split("/", 1)[0]
    return top in LEFT_OUT or any(top.startswith(prefix) and top.endswith(".dist-info") for prefix in LEFT_OUT)


def add_templates(out: Path, source: Path = ROOT / "templates") -> int:
    """Add the top-level `templates/` folder to deployment.zip beside app.py; returns how many files were added.

    Chalice zips only app.py, chalicelib/ and vendor/ (and follows no directory symlink), so the templates would be
    left out. They go in at the same place as in the repository, so chalicelib/web/templating.py finds them by one
    path in both (D34). Entries get a fixed time, like the bytecode, so the zip depends only on its contents.
    """
    files = sorted(
        path
        for path in source.rglob("*")
        if path.is_file() and not {"__pycache__", COMPILED_DIR} & set(path.relative_to(source).parts)
    )
    if not files:
        raise SystemExit(f"no templates found in {source}")
    archive_path = out / "deployment.zip"
    with zipfile.ZipFile(archive_path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        taken = [name for name in archive.namelist() if name.startswith(f"{source.name}/")]
        if taken:  # a dependency shipping a top-level folder of the same name would shadow ours
            raise SystemExit(f"deployment.zip already holds {taken[0]}: cannot add {source.name}/")
        for path in files:
            info = zipfile.ZipInfo(
                f"{source.name}/{path.relative_to(source).as_posix()}", date_time=(2020, 1, 1, 0, 0, 0)
            )
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return len(files)


def add_compiled_templates(out: Path) -> int:
    """Add the built-in templates compiled to Python modules (D49) under templates/_compiled/ in deployment.zip.

    They are compiled here, from the same sources add_templates put in the zip and with the environment that serves
    them (chalicelib/web/templating.py:compile_builtin); precompile then adds their bytecode like any module's. The
    runtime uses them only while the manifest's digests match the zip's sources. Returns how many templates.
    """
    from chalicelib.web.templating import compile_builtin  # jinja2 is a runtime dependency: installed here too

    with tempfile.TemporaryDirectory() as tmp:
        count = compile_builtin(Path(tmp))
        with zipfile.ZipFile(out / "deployment.zip", "a", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(Path(tmp).iterdir()):
                info = zipfile.ZipInfo(f"templates/{COMPILED_DIR}/{path.name}", date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    return count


def link_runtime_provided(directory: Path) -> Path:
    """`directory` holding links to this environment's copies of what Lambda provides: with the unpacked zip and
    this on PYTHONPATH (and `python -S`), the package imports exactly as it would in Lambda."""
    directory.mkdir(parents=True, exist_ok=True)
    site = Path(next(path for path in sys.path if path.endswith("site-packages")))
    for name in LAMBDA_PROVIDED:
        if (site / name).exists():
            (directory / name).symlink_to(site / name)
    return directory


def precompile(out: Path) -> int:
    """Add bytecode for every module in deployment.zip; returns how many .pyc files were added.

    Lambda's code directory is read-only, so without bytecode in the package Python compiles every module it imports
    on every cold start (Chalice zips sources only). Unchecked-hash .pyc files (PEP 552) stay valid whatever times
    the files get when Lambda unpacks them. They must come from the runtime's Python version, checked here.
    """
    runtimes = {
        resource["Properties"]["Runtime"]
        for resource in json.loads((out / "sam.json").read_text())["Resources"].values()
        if "Runtime" in resource.get("Properties", {})
    }
    ours = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if runtimes != {ours}:
        raise SystemExit(f"cannot precompile for {sorted(runtimes)} with {ours}")
    archive_path = out / "deployment.zip"
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(archive_path) as archive:
            archive.extractall(tmp)
        compileall.compile_dir(
            tmp, quiet=2, ddir="/var/task", invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
        )
        compiled = sorted(Path(tmp).rglob("*.pyc"))
        with zipfile.ZipFile(archive_path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in compiled:
                info = zipfile.ZipInfo(str(path.relative_to(tmp)), date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    return len(compiled)


def lint(template: Path) -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(cfn_lint), "--format", "parseable", str(template)], capture_output=True, text=True, check=False
    )
    errors = [line for line in result.stdout.splitlines() if ":E" in line or line.split(":")[-2:-1] == ["E"]]
    if result.returncode not in (0, 4, 8, 12) or errors:  # warnings (4) and informational (8) do not fail the build
        raise SystemExit(f"cfn-lint found errors:\n{result.stdout}{result.stderr}")
    if result.stdout.strip():
        print(result.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", default="dev", choices=["dev", "prod"])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    out = build(args.stage, args.out or ROOT / "build" / args.stage)
    lint(out / "sam.json")
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        compiled = sum(name.endswith(".pyc") for name in archive.namelist())
        templates = sum(name.startswith("templates/") and not name.endswith("/") for name in archive.namelist())
    size = (out / "deployment.zip").stat().st_size
    print(f"packaged stage {args.stage}: {out / 'deployment.zip'} ({size / 1e6:.1f} MB)")
    print(f"bytecode: {compiled} modules precompiled for the Lambda runtime")
    print(f"templates: {templates} files from templates/")
    print(f"template: {out / 'sam.json'} (cfn-lint clean)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
