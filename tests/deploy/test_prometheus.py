"""Prometheus and Grafana of docker-compose.yml: the scrape config, the alert rules and the dashboard.

``promtool`` (Debian's ``prometheus`` package; ``.ci/run`` installs it) checks the config and the rules and runs
the rules' unit tests (``deploy/prometheus/alerts.test.yml``: each alert firing and not firing). A real intake
(migrated, seeded, bound to its durables on a real nats-server) is scraped: every metric and label the rules and
the dashboard name must be exported, so renaming a metric breaks this test, not the operator's night. The same
package's Prometheus server then scrapes that intake and evaluates the rules for real.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert

from intake.main import create
from intake.seed import seed
from pm_platform import migrations
from pm_platform.cli import SERVICE_PORTS
from pm_platform.envelope import utcnow
from pm_platform.natsserver import NatsServer
from pm_platform.runtime import Runtime
from pm_platform.settings import Settings
from tests.deploy.test_compose import command_words, port_mappings
from tests.platform.harness import eventually, provision
from tests.platform.test_metrics import served
from tests.services.intake.helpers import new_runtime

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
CONFIG = PROMETHEUS_DIR / "prometheus.yml"
RULES = PROMETHEUS_DIR / "alerts.yml"
RULE_TESTS = PROMETHEUS_DIR / "alerts.test.yml"
GRAFANA_DIR = ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA_DIR / "dashboards" / "pm-platform.json"
DATASOURCES = GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml"
DASHBOARD_PROVIDERS = GRAFANA_DIR / "provisioning" / "dashboards" / "pm.yml"
COMPOSE_FILE = ROOT / "docker-compose.yml"

# Series Prometheus makes itself, and the labels it adds to every scraped one (service: prometheus.yml's relabel).
PROMETHEUS_SERIES = {"up", "ALERTS"}
PROMETHEUS_LABELS = {"job", "instance", "service", "alertname", "alertstate", "severity", "le"}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool"}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    # Never a skip: `apt-get install -y --no-install-recommends prometheus` (.ci/run does it when missing).
    assert binary, "promtool is missing: apt-get install -y --no-install-recommends prometheus"
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=120, cwd=ROOT)


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return document


def panels(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in document["panels"]:
        found.append(panel)
        found += panel.get("panels", [])
    return found


def dashboard_queries() -> list[tuple[str, str]]:
    """(expression, legend format) of every panel target and template variable."""
    document = dashboard()
    queries = [
        (target["expr"], target.get("legendFormat", ""))
        for panel in panels(document)
        for target in panel.get("targets", [])
    ]
    queries += [(variable["query"]["query"], "") for variable in document["templating"]["list"]]
    return queries


def metric_names(expression: str) -> set[str]:
    """The series an expression reads: our ``pm_`` metrics and Prometheus's own."""
    without_strings = re.sub(r'"[^"]*"', '""', expression)
    names = set(re.findall(r"\bpm_[a-z0-9_]+\b", without_strings))
    names |= {name for name in PROMETHEUS_SERIES if re.search(rf"\b{name}\b(?!\s*\()", without_strings)}
    return names


def label_names(expression: str, legend: str = "") -> set[str]:
    """Labels an expression groups or matches by, and those its legend prints."""
    found: set[str] = set()
    for group in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", expression):
        found |= {word.strip() for word in group.split(",") if word.strip()}
    for matchers in re.findall(r"\{([^}]*)\}", re.sub(r'"[^"]*"', '""', expression)):
        found |= set(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", matchers))
    found |= set(re.findall(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}", legend))
    for function_labels in re.findall(r"label_values\([^,]*,\s*([a-zA-Z_]+)\)", expression):
        found.add(function_labels)
    return found - PROMQL_WORDS


# --- promtool ---------------------------------------------------------------------------------------------------


def test_promtool_accepts_the_config_and_its_rule_files() -> None:
    result = promtool("check", "config", str(CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout + result.stderr


def test_promtool_accepts_the_rules() -> None:
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rules_unit_tests_pass() -> None:
    result = promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_is_tested_firing_and_silent() -> None:
    tests = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))
    assert tests["rule_files"] == [RULES.name]
    fired: set[str] = set()
    silent: set[str] = set()
    for test in tests["tests"]:
        for case in test.get("alert_rule_test", []):
            (fired if case["exp_alerts"] else silent).add(case["alertname"])
            for alert in case["exp_alerts"]:
                # The annotations are checked as rendered: a template error or a missing label shows.
                assert alert["exp_annotations"]["summary"] and alert["exp_annotations"]["description"]
    alerts = {rule["alert"] for rule in rules()}
    assert fired == alerts, f"never tested firing: {sorted(alerts - fired)}"
    assert silent == alerts, f"never tested silent: {sorted(alerts - silent)}"


def test_every_alert_has_a_severity_and_says_what_to_do_next() -> None:
    found = rules()
    assert len(found) >= 8
    for rule in found:
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        summary, description = rule["annotations"]["summary"], rule["annotations"]["description"]
        assert summary and len(summary) < 120, rule["alert"]
        # The runbook: a `pm` command, a console screen or a compose command to run next.
        assert re.search(r"`pm [a-z-]+|127\.0\.0\.1:8100/|`docker compose ", description), rule["alert"]
    required = {
        "PmServiceDown": "up",
        "PmServiceNotReady": "pm_ready_check",
        "PmConsumerLagGrowing": "pm_consumer_pending",
        "PmOutboxStuck": "pm_outbox_oldest_age_seconds",
        "PmDeadLetterOpen": "pm_dead_letters_open",
        "PmTimeLimitBreaches": "pm_intake_breached_requests",
    }
    by_name = {rule["alert"]: rule for rule in found}
    for alert, metric in required.items():
        assert metric in metric_names(by_name[alert]["expr"]), alert


# --- compose and Grafana ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    found: dict[str, dict[str, Any]] = document["services"]
    return found


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> source, for each volume of a service."""
    return {str(volume).split(":")[1]: str(volume).split(":")[0] for volume in service.get("volumes", [])}


def test_prometheus_scrapes_every_service_by_its_compose_name(services: dict[str, dict[str, Any]]) -> None:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    [job] = config["scrape_configs"]
    assert job["job_name"] == "pm" and job.get("metrics_path", "/metrics") == "/metrics"
    targets = {target for group in job["static_configs"] for target in group["targets"]}
    assert targets == {f"{name}:{port}" for name, port in SERVICE_PORTS.items()}
    for target in targets:
        name, port = target.split(":")
        assert name in services and int(port) in {container for _, _, container in port_mappings(services[name])}
    # The service label comes from the target's host name.
    [relabel] = job["relabel_configs"]
    assert relabel["target_label"] == "service"
    assert re.sub(relabel["regex"], relabel["replacement"].replace("$1", r"\1"), "intake:8101") == "intake"


def test_compose_runs_prometheus_and_grafana_pinned_on_loopback(services: dict[str, dict[str, Any]]) -> None:
    prometheus, grafana = services["prometheus"], services["grafana"]
    for service in (prometheus, grafana):
        tag = service["image"].partition(":")[2]
        assert tag and tag != "latest" and re.match(r"v?\d+\.\d+\.\d+$", tag), service["image"]
        assert all(host_ip == "127.0.0.1" for host_ip, _, _ in port_mappings(service))
        for source in mounts(service).values():
            if source.startswith("."):
                assert (ROOT / source).exists(), source
    assert port_mappings(prometheus) == [("127.0.0.1", 9090, 9090)]
    assert port_mappings(grafana) == [("127.0.0.1", 3000, 3000)]
    # The tested promtool's major version: the rule syntax checked here is the one the image reads.
    version = promtool("--version").stdout.split()[2]
    assert prometheus["image"].split(":v")[1].split(".")[0] == version.split(".")[0]
    words = command_words(prometheus["command"])
    config_path = next(word.split("=", 1)[1] for word in words if word.startswith("--config.file="))
    prometheus_mounts = mounts(prometheus)
    assert (ROOT / prometheus_mounts[config_path]).resolve() == CONFIG
    rule_file = yaml.safe_load(CONFIG.read_text())["rule_files"][0]
    assert (ROOT / prometheus_mounts[str(Path(config_path).parent / rule_file)]).resolve() == RULES
    grafana_mounts = mounts(grafana)
    assert (ROOT / grafana_mounts["/etc/grafana/provisioning"]).resolve() == GRAFANA_DIR / "provisioning"
    providers = yaml.safe_load(DASHBOARD_PROVIDERS.read_text())["providers"]
    [path] = [provider["options"]["path"] for provider in providers]
    assert (ROOT / grafana_mounts[path]).resolve() == DASHBOARD.parent
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{path}/{DASHBOARD.name}"
    assert grafana["environment"]["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"


def test_the_dashboard_uses_the_provisioned_data_source() -> None:
    [source] = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    document = dashboard()
    assert document["uid"] and document["title"]
    ids = [panel["id"] for panel in panels(document)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels(document):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": source["uid"]}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == source["uid"]
    titles = " ".join(panel["title"].lower() for panel in panels(document))
    for topic in ("requests", "latency", "lag", "outbox", "dead letters", "timers", "open requests", "breaches"):
        assert topic in titles, topic


# --- against a running service ----------------------------------------------------------------------------------


@pytest.fixture
async def intake(nats_server: NatsServer, database_urls: dict[str, str], tmp_path: Path) -> AsyncIterator[Runtime]:
    """Intake migrated and seeded, its runtime started on a real nats-server with its durables provisioned."""
    await provision(nats_server.url)
    settings = Settings(
        service="intake", var_dir=tmp_path, database_url=database_urls["intake"], nats_url=nats_server.url
    )
    await asyncio.to_thread(migrations.upgrade, "intake", settings)
    runtime = new_runtime(settings)
    await seed(runtime)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


def exported(text: str) -> tuple[set[str], set[str]]:
    """(sample names, label names) in a scrape."""
    names: set[str] = set()
    labels: set[str] = set()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            names.add(sample.name)
            labels |= set(sample.labels)
    return names, labels


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def prometheus_server(tmp_path: Path, target: str) -> AsyncIterator[str]:
    binary = shutil.which("prometheus")
    assert binary, "prometheus is missing: apt-get install -y --no-install-recommends prometheus"
    config = {
        # A scrape reads JetStream and the database: on a busy machine it may take a few seconds.
        "global": {"scrape_interval": "5s", "scrape_timeout": "5s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        # The compose config's job, pointed at the test's intake; the label the relabel would give it.
        "scrape_configs": [
            {"job_name": "pm", "static_configs": [{"targets": [target], "labels": {"service": "intake"}}]}
        ],
    }
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    log = (tmp_path / "prometheus.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        binary,
        f"--config.file={path}",
        f"--storage.tsdb.path={tmp_path / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:

            async def ready() -> bool:
                try:
                    return (await client.get("/-/ready")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(ready, timeout=60, interval=0.2)
        yield url
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()
            await process.wait()
        log.close()


async def test_every_metric_and_label_the_rules_and_the_dashboard_name_is_exported(
    intake: Runtime, tmp_path: Path
) -> None:
    app = create(intake)
    async with served(app) as base, httpx.AsyncClient(base_url=base, timeout=10) as client:
        assert (await client.get("/healthz")).status_code == 200  # an HTTP answer, so its metrics have samples
        response = await client.get("/metrics")
        assert response.status_code == 200, response.text
        names, labels = exported(response.text)
        assert "pm_consumer_pending" in names and "pm_intake_breached_requests" in names

        queries = [(rule["expr"], "") for rule in rules()] + dashboard_queries()
        for expression, legend in queries:
            used = metric_names(expression)
            assert used, f"{expression!r} reads no metric"
            missing = {name for name in used - PROMETHEUS_SERIES if name not in names}
            assert not missing, f"{expression!r} names {sorted(missing)}, which no service exports"
            unknown = label_names(expression, legend) - labels - PROMETHEUS_LABELS
            assert not unknown, f"{expression!r} / {legend!r} uses labels {sorted(unknown)} no metric carries"
        # The text checks above are not a formality: a renamed metric is caught.
        assert metric_names("rate(pm_outbox_renamed[5m])") - names == {"pm_outbox_renamed"}

        # A real Prometheus scrapes this intake and evaluates the rules: every expression runs, and an open
        # dead letter fires its alert with the runbook rendered.
        async with (
            prometheus_server(tmp_path, base.removeprefix("http://")) as prometheus,
            httpx.AsyncClient(base_url=prometheus, timeout=10) as api,
        ):

            async def scraped() -> bool:
                found = (await api.get("/api/v1/query", params={"query": 'up{job="pm"} == 1'})).json()
                return bool(found["data"]["result"])

            await eventually(scraped, timeout=60, interval=0.5)
            for rule in rules():
                answer = (await api.get("/api/v1/query", params={"query": rule["expr"]})).json()
                assert answer["status"] == "success", (rule["alert"], answer)
            for expression, _ in dashboard_queries():
                if expression.startswith("label_values"):
                    continue
                query = expression.replace("$service", ".*").replace("$site", ".*")
                answer = (await api.get("/api/v1/query", params={"query": query})).json()
                assert answer["status"] == "success", (expression, answer)
            latest = {"query": "last_over_time(pm_intake_open_requests[1m])"}
            sites = (await api.get("/api/v1/query", params=latest)).json()
            assert {"harbour"} <= {series["metric"]["site"] for series in sites["data"]["result"]}

            async with intake.sessionmaker() as session:
                await session.execute(
                    insert(intake.tables.dead_letters).values(
                        consumer="intake-from-dispatch",
                        subject="dispatch.workorder.created.v1.harbour.engineering",
                        payload="{}",
                        kind="contract",
                        reason="test",
                        status="open",
                        created_at=utcnow(),
                    )
                )
                await session.commit()

            async def firing() -> list[dict[str, Any]]:
                alerts = (await api.get("/api/v1/alerts")).json()["data"]["alerts"]
                return [
                    alert
                    for alert in alerts
                    if alert["labels"]["alertname"] == "PmDeadLetterOpen" and alert["state"] == "firing"
                ]

            async def fired() -> bool:
                return bool(await firing())

            await eventually(fired, timeout=60, interval=0.5)
            [alert] = await firing()
            assert alert["labels"]["service"] == "intake" and alert["labels"]["severity"] == "warning"
            assert alert["annotations"]["summary"] == "intake has 1 open dead letter(s)"
            assert "pm dead-letters list --service intake" in alert["annotations"]["description"]
