"""`make package` builds a Lambda zip that carries the templates and imports every handler, and a CloudFormation
template that cfn-lint passes."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra.package import ROOT, add_templates, build, link_runtime_provided, lint

TEMPLATE_FILES = sorted(
    path for path in (ROOT / "templates").rglob("*") if path.is_file() and "_compiled" not in path.parts
)


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build("prod", tmp_path_factory.mktemp("package") / "prod")


def test_the_template_is_complete_and_passes_cfn_lint(package: Path) -> None:
    lint(package / "sam.json")  # raises on any cfn-lint error
    template = json.loads((package / "sam.json").read_text())
    resources = template["Resources"]
    for name in (
        "APIHandler",
        "DeliverOutbox",
        "Scheduler",
        "Table",
        "DeliveryStream",
        "DeliveryDeadLetters",
        "DeadLetterAlarm",
    ):
        assert name in resources, name
    table = resources["Table"]["Properties"]
    assert (
        table["BillingMode"] == "PAY_PER_REQUEST"
        and table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
    )
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert {index["IndexName"] for index in table["GlobalSecondaryIndexes"]} == {
        "by_tracking",
        "by_token",
        "by_provider_message",
        "by_due",
        "by_retailer",
        "by_log",
    }
    mapping = resources["DeliveryStream"]["Properties"]
    assert (
        mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        and mapping["BisectBatchOnFunctionError"] is True
    )
    environment = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert environment["TWILIO_AUTH_TOKEN"].startswith(
        "{{resolve:secretsmanager:porchlight/prod"
    )  # never a literal secret
    assert environment["TABLE_NAME"] == "porchlight-prod"


def test_api_gateway_throttles_and_answers_its_own_errors_in_the_documented_shape(package: Path) -> None:
    resources = json.loads((package / "sam.json").read_text())["Resources"]
    api = resources["RestAPI"]["Properties"]
    assert api["MethodSettings"][0]["ThrottlingRateLimit"] > 0
    responses = api["GatewayResponses"]
    assert responses["THROTTLED"]["StatusCode"] == 429
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == 404  # an unknown path is a 404, not a 403
    for name, response in responses.items():
        rendered = response["ResponseTemplates"]["application/json"].replace(
            "$context.error.messageString", '"what API Gateway said"'
        )
        error = json.loads(rendered)["error"]
        assert set(error) == {"code", "message"} and error["code"].isidentifier(), name


def test_the_public_rate_limit_is_a_waf_rule_on_shopper_routes_only(package: Path) -> None:
    template = json.loads((package / "sam.json").read_text())
    acl = template["Resources"]["PublicRateLimitAcl"]
    assert acl["Condition"] == "HasRateLimit" and template["Parameters"]["PublicRateLimit"]["Default"] == 0
    rule = acl["Properties"]["Rules"][0]
    assert rule["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    statement = rule["Statement"]["RateBasedStatement"]
    assert statement["AggregateKeyType"] == "IP" and statement["Limit"] == {"Ref": "PublicRateLimit"}
    guarded = {
        s["ByteMatchStatement"]["SearchString"] for s in statement["ScopeDownStatement"]["OrStatement"]["Statements"]
    }
    # Shopper pages, the tracking JSON and the order lookup; carriers' webhook bursts are never per-IP limited.
    assert guarded == {"/t/", "/v1/tracking/", "/track/", "/v1/unsubscribe/"}
    body = json.loads(acl["Properties"]["CustomResponseBodies"]["rate_limited"]["Content"])
    assert body["error"]["code"] == "rate_limited"
    association = template["Resources"]["PublicRateLimitAssociation"]
    # SAM names the stage it generates <api logical id><stage name>Stage; the association must wait for it.
    assert association["DependsOn"] == "RestAPIapiStage"
    assert template["Resources"]["RestAPI"]["Properties"]["StageName"] == "api"


def test_each_lambda_may_touch_only_what_it_uses(package: Path) -> None:
    resources = json.loads((package / "sam.json").read_text())["Resources"]

    def actions(role: str) -> set[str]:
        statements = resources[role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        return {action for statement in statements for action in statement["Action"]}

    assert "dynamodb:DeleteItem" in actions("ApiHandlerRole")  # erasure
    assert "dynamodb:GetRecords" in actions("DeliverOutboxRole") and "sqs:SendMessage" in actions("DeliverOutboxRole")
    assert "dynamodb:GetRecords" not in actions("ApiHandlerRole") and "dynamodb:DeleteItem" not in actions(
        "SchedulerRole"
    )
    for role in ("ApiHandlerRole", "DeliverOutboxRole", "SchedulerRole"):
        for statement in resources[role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]:
            if any(action.startswith("dynamodb:") for action in statement["Action"]):
                arns = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                assert all("table/porchlight-prod" in arn for arn in arns), statement


def test_the_zip_carries_templates_and_everything_the_handlers_import(package: Path, tmp_path: Path) -> None:
    archive = zipfile.ZipFile(package / "deployment.zip")
    names = set(archive.namelist())
    # templates/ sits beside app.py, as in the repository (D34): every file of the folder, nothing under chalicelib/.
    shipped = {
        name
        for name in names
        if name.startswith("templates/") and not name.startswith("templates/_compiled/") and not name.endswith("/")
    }
    in_repo = {f"templates/{path.relative_to(ROOT / 'templates').as_posix()}" for path in TEMPLATE_FILES}
    assert "app.py" in names and "templates/pages/tracking.html.j2" in shipped and shipped == in_repo
    # One text and one email template serve every locale; their words are in the compiled catalogs (D38).
    assert {"templates/sms/messages.j2", "templates/email/messages.j2"} <= names
    assert not any(name.startswith("chalicelib/templates/") for name in names)
    assert not any(name.startswith(("tests/", "bench/", ".venv/")) for name in names)
    # PynamoDB ships; the botocore it runs on is the runtime's (D1), so the zip does not carry a second one.
    assert "pynamodb/models.py" in names and not any(name.startswith(("botocore/", "dateutil/")) for name in names)
    # Bytecode ships with every module, hash-based and unchecked (PEP 552 flags == 1): Lambda cannot write it.
    # The built-in templates ship compiled too (D49), each as a module with its bytecode, and the manifest they match.
    compiled = {name for name in names if name.startswith("templates/_compiled/tmpl_") and name.endswith(".py")}
    assert len(compiled) == sum(1 for path in TEMPLATE_FILES if path.suffix == ".j2") > 0
    assert "templates/_compiled/sources.json" in names
    for module in ("__pycache__/app", "chalicelib/services/__pycache__/deliver", "twilio/rest/__pycache__/__init__"):
        pyc = archive.read(f"{module}.cpython-{sys.version_info.major}{sys.version_info.minor}.pyc")
        assert int.from_bytes(pyc[4:8], "little") == 1, module
    archive.extractall(tmp_path / "lambda")
    # The Lambda runtime provides boto3 and its dependencies; nothing else may come from outside the zip.
    provided = link_runtime_provided(tmp_path / "provided")
    modules = [
        "app",
        "chalicelib.services.deliver",
        "chalicelib.services.surveys",
        "chalicelib.services.relay",
        "chalicelib.services.analytics",
        "chalicelib.channels.twilio_sms",
        "chalicelib.channels.sendgrid_email",
        "chalicelib.api.schemas",
        "chalicelib.web.templating",
        "twilio.rest",
        "twilio.request_validator",
        "sendgrid",
        "sendgrid.helpers.eventwebhook",
        "jinja2.sandbox",
        "pydantic",
    ]
    script = f"import importlib\nfor m in {modules!r}:\n    importlib.import_module(m)\nimport app\nprint(len(app.app.routes))"
    as_in_lambda(script, tmp_path, provided)


def as_in_lambda(script: str, tmp_path: Path, provided: Path, **env: str) -> str:
    """`script` run against the zip unpacked in tmp_path/lambda and the runtime's own packages only; its output."""
    result = subprocess.run(
        [sys.executable, "-S", "-c", script],
        cwd=tmp_path,
        env={
            "PYTHONPATH": f"{tmp_path / 'lambda'}:{provided}",
            "PATH": "/usr/bin:/bin",
            "AWS_DEFAULT_REGION": "us-east-1",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_worker_lambdas_load_no_route_and_the_api_lambda_every_one(package: Path, tmp_path: Path) -> None:
    resources = json.loads((package / "sam.json").read_text())["Resources"]

    def variables(name: str) -> dict[str, str]:
        return dict(resources[name]["Properties"].get("Environment", {}).get("Variables", {}))

    # D49: the workers' own environment says they serve no HTTP; the API Lambda's must not say so.
    assert variables("DeliverOutbox")["SERVES_HTTP"] == variables("Scheduler")["SERVES_HTTP"] == "0"
    assert variables("APIHandler").get("SERVES_HTTP", "1") != "0"
    zipfile.ZipFile(package / "deployment.zip").extractall(tmp_path / "lambda")
    provided = link_runtime_provided(tmp_path / "provided")
    script = (
        "import sys, app\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('chalicelib.api.') or m.startswith('chalicelib.services.'))\n"
        "print(len(app.app.routes), callable(app.deliver_outbox), callable(app.scheduler), loaded)"
    )
    seen = {}
    for function in ("APIHandler", "DeliverOutbox", "Scheduler"):
        serves = variables(function).get("SERVES_HTTP")
        own = {"SERVES_HTTP": serves} if serves is not None else {}
        seen[function] = as_in_lambda(script, tmp_path, provided, **own).strip()
    routes, *handlers, loaded = seen["APIHandler"].split(" ", 3)
    assert int(routes) > 50 and "chalicelib.api.webhooks" in loaded and handlers == ["True", "True"]
    assert (
        seen["DeliverOutbox"]
        == seen["Scheduler"]
        == "0 True True ['chalicelib.api.application', 'chalicelib.api.http']"
    )


#: Run inside the unpacked zip: renders a text, an email (layout included) and a page from the zip's own templates.
RENDER_FROM_ZIP = """
import sys
from chalicelib.web import templating
from chalicelib.api.tracking_api import not_found_page
root = str(templating.TEMPLATE_ROOT)
assert root.startswith(sys.argv[1]), root
sms = templating.render_sms("shipped", "fr", {
    "retailer": "Northwind", "order_id": "A-1001", "eta": "mer. 10:30-12:00", "tracking_url": "https://t.example/t/abc",
    "carrier": "ups", "tracking_number": "1Z999", "support_phone": "", "support_email": "",
    "opt_out": templating.opt_out_text("fr"), "locale": "fr",
})
email = templating.render_email("delivered", "de", {
    "retailer": "Northwind", "order_id": "A-1001", "first_name": "Ada", "status_label": "Zugestellt", "eta": "",
    "tracking_url": "https://t.example/t/abc", "carrier": "ups", "tracking_number": "1Z999", "support_phone": "",
    "support_email": "", "unsubscribe_url": "https://t.example/u/x", "opt_out": "", "locale": "de",
    "brand": {"primary_color": "#1f4b99", "text_on_primary": "#ffffff", "accent_color": "#f2a900",
              "font_stack": "Arial, sans-serif", "logo_url": None},
})
page = not_found_page("es")
environment = templating.builtin_environment()
# The zip's compiled templates served these renders (D49): loaded as modules, not compiled from their sources.
assert type(environment.loader).__name__ == "ChoiceLoader", environment.loader
shipped = sorted(templating.source_digests())
for name in shipped:  # every shipped template loads, the tracking page included, each from its compiled module
    assert environment.get_template(name).filename.startswith(str(templating.COMPILED_ROOT)), name
print(root)
print(sms.body)
print(email.subject)
print("<html" in email.html and "https://t.example/t/abc" in email.html)
print(page.status_code, "<html" in page.body and 'lang="es"' in page.body)
print(len(shipped))
"""


def run_in_lambda_layout(code: Path, provided: Path, script: str) -> subprocess.CompletedProcess[str]:
    """`script` with only the unpacked zip and what Lambda provides on the path (`-S`: no site-packages, no repo)."""
    return subprocess.run(
        [sys.executable, "-S", "-c", script, str(code)],
        cwd=code.parent,
        env={"PYTHONPATH": f"{code}:{provided}", "PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_templates_render_from_the_built_zip_alone(package: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(package / "deployment.zip") as archive:
        archive.extractall(tmp_path / "lambda")
    provided = link_runtime_provided(tmp_path / "provided")
    result = run_in_lambda_layout(tmp_path / "lambda", provided, RENDER_FROM_ZIP)
    assert result.returncode == 0, result.stderr[-3000:]
    root, sms, subject, email_ok, page, count = result.stdout.splitlines()
    assert Path(root) == tmp_path / "lambda" / "templates"  # the zip's copy, not the repository's
    assert "Northwind" in sms and "https://t.example/t/abc" in sms and "STOP" in sms
    assert subject and email_ok == "True" and page == "404 True"
    assert int(count) == len(TEMPLATE_FILES)


#: Run inside the unpacked zip: the catalogs load from the zip's own compiled .mo files, lazily, one locale at a time.
CATALOGS_FROM_ZIP = """
import sys
from chalicelib.web import i18n
assert str(i18n.LOCALE_ROOT).startswith(sys.argv[1]), i18n.LOCALE_ROOT
assert i18n._catalog.cache_info().currsize == 0  # importing reads no catalog
print(i18n.status_label("delivered", "fr"))
print(i18n.strings("de-AT")["title"])
print(i18n.translations("es").gettext("STOP to opt out"))
"""


def test_the_zip_carries_compiled_catalogs_that_load_with_the_standard_library(package: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(package / "deployment.zip") as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "lambda")
    for locale in ("en", "es", "fr", "de"):
        assert f"chalicelib/locale/{locale}/LC_MESSAGES/porchlight.mo" in names, locale
    assert not any(name.startswith("babel/") for name in names)  # Babel is a build tool, never shipped
    provided = link_runtime_provided(tmp_path / "provided")
    result = run_in_lambda_layout(tmp_path / "lambda", provided, CATALOGS_FROM_ZIP)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines() == ["Livrée", "Sendung verfolgen", "STOP para salir"]


def test_a_zip_without_the_templates_fails_saying_how_to_package(package: Path, tmp_path: Path) -> None:
    """What `chalice deploy` alone would ship: the first render says where the templates were looked for and why."""
    with zipfile.ZipFile(package / "deployment.zip") as archive:
        archive.extractall(tmp_path / "lambda", [n for n in archive.namelist() if not n.startswith("templates/")])
    provided = link_runtime_provided(tmp_path / "provided")
    result = run_in_lambda_layout(tmp_path / "lambda", provided, RENDER_FROM_ZIP)
    assert result.returncode != 0
    assert "built-in templates not found" in result.stderr and "make package" in result.stderr


def test_the_templates_are_added_beside_app_py_with_fixed_times_and_never_over_a_dependency(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with zipfile.ZipFile(out / "deployment.zip", "w") as archive:
        archive.writestr("app.py", "")
        archive.writestr("chalicelib/__init__.py", "")
    assert add_templates(out) == len(TEMPLATE_FILES) > 0
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        infos = [info for info in archive.infolist() if info.filename.startswith("templates/")]
        assert {info.date_time for info in infos} == {(2020, 1, 1, 0, 0, 0)}
        first = TEMPLATE_FILES[0]
        assert archive.read(f"templates/{first.relative_to(ROOT / 'templates').as_posix()}") == first.read_bytes()
    with pytest.raises(SystemExit, match="already holds templates/"):
        add_templates(out)  # a second copy (or a dependency's own top-level templates/) is refused


def test_make_package_prints_the_artefacts() -> None:
    result = subprocess.run([sys.executable, "-m", "infra.package", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0 and "cfn-lint" in result.stdout
