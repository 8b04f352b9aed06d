"""The deployment files agree with the code and with each other.

docker-compose.yml, deploy/ (image, broker, database, Prometheus, Grafana) and the code name the
same things in many places: environment variables, service names, ports, databases, the broker
user, the bus topology, metric names, mounted paths. These tests fail as soon as one side moves
without the other. No Docker engine is needed: the files are parsed, not run.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib
import json
import pkgutil
import re
import shlex
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from prometheus_client import REGISTRY

from services.kernel import bus
from services.kernel.config import SERVICE_NAMES, known_environment_variables, load_settings
from services.kernel.events.contracts import CaseOverdue

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = DEPLOY / "env.example"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"
POSTGRES_INIT = DEPLOY / "postgres" / "init.sql"
RABBITMQ_CONF = DEPLOY / "rabbitmq" / "rabbitmq.conf"
RABBITMQ_DEFINITIONS = DEPLOY / "rabbitmq" / "definitions.json"
PROMETHEUS_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
PROMETHEUS_ALERTS = DEPLOY / "prometheus" / "alerts.yml"
GRAFANA_DATASOURCES = DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
GRAFANA_DASHBOARD_PROVIDERS = DEPLOY / "grafana" / "provisioning" / "dashboards" / "minqing.yml"
GRAFANA_DASHBOARDS = DEPLOY / "grafana" / "dashboards"
PIPELINE_DASHBOARD = GRAFANA_DASHBOARDS / "pipeline.json"
LEADERS_DASHBOARD = GRAFANA_DASHBOARDS / "leaders.json"
# Every dashboard Grafana provisions, by file name, with the uid links and bookmarks rely on.
DASHBOARD_UIDS = {"pipeline.json": "minqing-pipeline", "leaders.json": "minqing-leaders"}

GRAFANA_DATASOURCE_UID = "prometheus"
SMTP_PORT = 2525
# Stands in for the MINQING_SECRET_KEY an operator puts in `.env` (env.example leaves it empty).
OPERATOR_SECRET_KEY = "contract-test-secret-key-" + "x" * 32

_VARIABLE_NAME = re.compile(r"\bMINQING_[A-Z0-9_]+\b")
_INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)
_METRIC_NAME = re.compile(r"\bminqing_[a-z_]+")
_READYZ_URL = re.compile(r"http://(?:127\.0\.0\.1|localhost):(\d+)/readyz")


# --- reading the files -----------------------------------------------------------------------


@functools.cache
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return loaded


def compose_services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose()["services"]
    return services


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@functools.cache
def env_example() -> dict[str, str]:
    """`NAME=value` lines of deploy/env.example (comments and blank lines skipped)."""
    values: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            name, separator, value = stripped.partition("=")
            assert separator, f"env.example: not NAME=value: {line!r}"
            values[name.strip()] = value.strip()
    return values


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    """Resolve compose's `$`-interpolation the way `docker compose` would with `variables`."""

    def replace(match: re.Match[str]) -> str:
        if match[0] == "$$":
            return "$"
        name = match["braced"] or match["bare"]
        op, arg = match["op"] or "", match["arg"] or ""
        value = variables.get(name, "")
        # `:-`, `:?` and `:+` treat an empty value as unset; `-`, `?` and `+` do not.
        is_set = name in variables and (value != "" or ":" not in op)
        if op.endswith("-"):
            return value if is_set else arg
        if op.endswith("?"):
            if not is_set:
                raise KeyError(f"{name}: {arg}")
            return value
        if op.endswith("+"):
            return arg if is_set else ""
        return value

    return _INTERPOLATION.sub(replace, text)


def interpolated_names(text: str) -> set[str]:
    return {m["braced"] or m["bare"] for m in _INTERPOLATION.finditer(text) if m[0] != "$$"}


def command_of(service: Mapping[str, Any]) -> list[str]:
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else [str(a) for a in command]


def is_minqing_service(service: Mapping[str, Any]) -> bool:
    return command_of(service)[:2] == ["minqing", "serve"]


def minqing_services() -> dict[str, dict[str, Any]]:
    """Compose services that run `minqing serve ...`, by compose service name."""
    return {name: s for name, s in compose_services().items() if is_minqing_service(s)}


def served_service_and_port(service: Mapping[str, Any]) -> tuple[str, int]:
    """(service, port) from `minqing serve <service> --host 0.0.0.0 --port <port>`."""
    command = command_of(service)
    assert len(command) == 7, f"unexpected command {command}"
    assert command[:2] == ["minqing", "serve"]
    assert command[3:6] == ["--host", "0.0.0.0", "--port"], f"unexpected command {command}"
    return command[2], int(command[6])


def environment_of(service: Mapping[str, Any]) -> dict[str, str | None]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        pairs = (entry.partition("=") for entry in environment)
        return {name: (value if sep else None) for name, sep, value in pairs}
    return {name: None if value is None else str(value) for name, value in environment.items()}


def resolved_environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A container's environment as compose sets it, with deploy/env.example (and a secret key)
    as `.env`."""
    variables = {**env_example(), "MINQING_SECRET_KEY": OPERATOR_SECRET_KEY}
    return {
        name: interpolate(value, variables)
        for name, value in environment_of(service).items()
        if value is not None
    }


def published_ports(service: Mapping[str, Any]) -> dict[int, int]:
    """Container port -> host port, from short ("[ip:]host:container[/proto]") or long syntax."""
    ports: dict[int, int] = {}
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            ports[int(entry["target"])] = int(entry["published"])
        else:
            *_, host, container = str(entry).split("/")[0].split(":")
            ports[int(container)] = int(host)
    return ports


def healthcheck_text(service: Mapping[str, Any]) -> str:
    test = service.get("healthcheck", {}).get("test", [])
    return test if isinstance(test, str) else " ".join(str(part) for part in test)


def bind_mounts(service: Mapping[str, Any]) -> dict[PurePosixPath, Path]:
    """Container path -> repository path, for the service's bind mounts."""
    mounts: dict[PurePosixPath, Path] = {}
    for entry in service.get("volumes", []):
        if isinstance(entry, dict):
            if entry.get("type") == "bind":
                mounts[PurePosixPath(entry["target"])] = (ROOT / entry["source"]).resolve()
            continue
        source, target, *_ = str(entry).split(":")
        if source.startswith((".", "/")):
            mounts[PurePosixPath(target)] = (ROOT / source).resolve()
    return mounts


def named_volume_mounts(service: Mapping[str, Any]) -> dict[PurePosixPath, str]:
    """Container path -> named volume."""
    mounts: dict[PurePosixPath, str] = {}
    for entry in service.get("volumes", []):
        if isinstance(entry, dict):
            if entry.get("type") == "volume":
                mounts[PurePosixPath(entry["target"])] = entry["source"]
            continue
        source, target, *_ = str(entry).split(":")
        if not source.startswith((".", "/")):
            mounts[PurePosixPath(target)] = source
    return mounts


def repository_path_in(service: Mapping[str, Any], container_path: str) -> Path | None:
    """The repository file or folder that `container_path` shows inside the container, if any."""
    wanted = PurePosixPath(container_path)
    for target, source in bind_mounts(service).items():
        if wanted == target or target in wanted.parents:
            return source.joinpath(*wanted.relative_to(target).parts)
    return None


def database_name(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def init_sql() -> str:
    text = POSTGRES_INIT.read_text(encoding="utf-8")
    return re.sub(r"--[^\n]*", "", text)


def rabbitmq_definitions() -> dict[str, Any]:
    definitions: dict[str, Any] = json.loads(RABBITMQ_DEFINITIONS.read_text(encoding="utf-8"))
    return definitions


def rabbitmq_password_matches(password: str, password_hash: str, algorithm: str) -> bool:
    """RabbitMQ's stored form: base64(4-byte salt + hash(salt + UTF-8 password))."""
    digests = {
        "rabbit_password_hashing_sha256": hashlib.sha256,
        "rabbit_password_hashing_sha512": hashlib.sha512,
    }
    assert algorithm in digests, f"unexpected hashing_algorithm {algorithm!r}"
    decoded = base64.b64decode(password_hash)
    salt, digest = decoded[:4], decoded[4:]
    return digests[algorithm](salt + password.encode("utf-8")).digest() == digest


def rabbitmq_conf() -> dict[str, str]:
    settings: dict[str, str] = {}
    for line in RABBITMQ_CONF.read_text(encoding="utf-8").splitlines():
        stripped = line.split("#", 1)[0].strip()
        if stripped:
            key, _, value = stripped.partition("=")
            settings[key.strip()] = value.strip()
    return settings


def prometheus_minqing_targets() -> dict[str, tuple[str, int]]:
    """`service` label -> (host, port) of the `minqing` scrape job."""
    config = read_yaml(PROMETHEUS_CONFIG)
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "minqing"]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    targets: dict[str, tuple[str, int]] = {}
    for static in job["static_configs"]:
        service = static["labels"]["service"]
        (target,) = static["targets"]
        host, _, port = target.rpartition(":")
        assert service not in targets, f"two Prometheus targets for {service}"
        targets[service] = (host, int(port))
    return targets


def alert_rules() -> list[dict[str, Any]]:
    groups = read_yaml(PROMETHEUS_ALERTS)["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard(path: Path = PIPELINE_DASHBOARD) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def dashboard_files() -> list[Path]:
    return sorted(GRAFANA_DASHBOARDS.glob("*.json"))


def dashboard_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in collapsed rows."""
    for panel in panels:
        yield panel
        yield from dashboard_panels(panel.get("panels", []))


def dashboard_exprs(path: Path = PIPELINE_DASHBOARD) -> list[str]:
    return [
        target["expr"]
        for panel in dashboard_panels(dashboard(path)["panels"])
        for target in panel.get("targets", [])
    ]


def metric_names(expr: str) -> set[str]:
    """Minqing series names in a PromQL expression (`_total`, `_bucket` etc. included)."""
    return set(_METRIC_NAME.findall(expr))


_SERIES_SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
}


@functools.cache
def exported_series() -> frozenset[str]:
    """Every series name Minqing can expose on /metrics, as a query names it.

    The metrics every module registers on import, plus those the services' custom collectors
    make at scrape time (run here against empty SQLite databases).
    """
    import services
    from services.__main__ import SPECS
    from services.kernel.runtime import ServiceRuntime

    for module in pkgutil.walk_packages(services.__path__, "services."):
        if "migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    families = [m for m in REGISTRY.collect() if m.name.startswith("minqing_")]
    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings(
            {
                "MINQING_BROKER_URL": "memory://",
                "MINQING_DATA_DIR": data_dir,
                "MINQING_SECRET_KEY": OPERATOR_SECRET_KEY,
            }
        )
        for spec in SPECS.values():
            if not spec.collectors:
                continue
            runtime = ServiceRuntime(spec, settings)
            try:
                spec.metadata.create_all(runtime.database.engine)
                for make_collector in spec.collectors:
                    families += make_collector(runtime).collect()
            finally:
                runtime.database.dispose()
                runtime.relay.database.dispose()
    return frozenset(
        family.name + suffix
        for family in families
        for suffix in _SERIES_SUFFIXES.get(family.type, ("",))
    )


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    instructions = []
    for line in logical:
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


# --- environment variables -------------------------------------------------------------------


@pytest.mark.parametrize("path", [COMPOSE_FILE, ENV_EXAMPLE, DOCKERFILE], ids=lambda p: p.name)
def test_deploy_files_name_only_environment_variables_the_code_reads(path: Path) -> None:
    named = set(_VARIABLE_NAME.findall(path.read_text(encoding="utf-8")))
    unknown = named - known_environment_variables()
    assert not unknown, f"{path.name} names variables Minqing does not read: {sorted(unknown)}"


def test_env_example_lists_exactly_the_variables_compose_interpolates() -> None:
    interpolated = interpolated_names(COMPOSE_FILE.read_text(encoding="utf-8"))
    documented = set(env_example())
    assert interpolated - documented == set(), "compose uses variables env.example omits"
    assert documented - interpolated == set(), "env.example sets variables compose never uses"


def test_env_example_ships_no_secret_key() -> None:
    assert env_example()["MINQING_SECRET_KEY"] == "", "each deployment must generate its own"


def test_compose_requires_the_secret_key_instead_of_defaulting_it() -> None:
    for name, service in minqing_services().items():
        value = environment_of(service).get("MINQING_SECRET_KEY") or ""
        assert re.fullmatch(r"\$\{MINQING_SECRET_KEY:\?[^}]+\}", value), name


def test_compose_environment_is_accepted_by_the_settings_loader() -> None:
    for name, service in minqing_services().items():
        settings = load_settings(resolved_environment(service))
        assert not settings.embedded, f"{name} would run on the in-memory broker"
        for served in SERVICE_NAMES:
            assert settings.database_url(served).startswith("postgresql"), (name, served)


# --- the four service containers -------------------------------------------------------------


def test_each_service_runs_in_exactly_one_container_named_after_it() -> None:
    served = [served_service_and_port(s)[0] for s in minqing_services().values()]
    assert sorted(served) == sorted(SERVICE_NAMES)
    for compose_name, service in minqing_services().items():
        assert served_service_and_port(service)[0] == compose_name, "Prometheus scrapes by name"


def test_service_port_agrees_across_command_published_port_healthcheck_and_prometheus() -> None:
    targets = prometheus_minqing_targets()
    assert set(targets) == set(SERVICE_NAMES)
    for compose_name, service in minqing_services().items():
        served, port = served_service_and_port(service)
        assert published_ports(service).get(port) == port, f"{served}: publish {port}:{port}"
        assert _READYZ_URL.findall(healthcheck_text(service)) == [str(port)], served
        assert targets[served] == (compose_name, port), served


def test_service_ports_match_the_runtime_defaults() -> None:
    from services.kernel.runtime import DEFAULT_PORTS

    ports = dict(served_service_and_port(s) for s in minqing_services().values())
    assert ports == dict(DEFAULT_PORTS)


def test_service_ports_are_distinct_and_exposed_by_the_image() -> None:
    ports = [served_service_and_port(s)[1] for s in minqing_services().values()]
    assert len(set(ports)) == len(ports)
    exposed = {
        int(port.split("/")[0])
        for keyword, arguments in dockerfile_instructions()
        if keyword == "EXPOSE"
        for port in arguments.split()
    }
    assert {*ports, SMTP_PORT} <= exposed


def test_intake_publishes_the_smtp_port() -> None:
    intake = next(s for s in minqing_services().values() if command_of(s)[2] == "intake")
    assert published_ports(intake).get(SMTP_PORT) == SMTP_PORT


def test_services_start_after_broker_and_database_are_healthy() -> None:
    for name, service in minqing_services().items():
        depends_on = service.get("depends_on")
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        for dependency in ("rabbitmq", "postgres"):
            assert depends_on[dependency] == {"condition": "service_healthy"}, (name, dependency)


def test_broker_and_database_have_healthchecks() -> None:
    assert "rabbitmq-diagnostics" in healthcheck_text(compose_services()["rabbitmq"])
    assert "pg_isready" in healthcheck_text(compose_services()["postgres"])


def test_service_healthcheck_probes_readyz_with_python() -> None:
    for name, service in minqing_services().items():
        test = service["healthcheck"]["test"]
        assert isinstance(test, list), f"{name}: exec form, no shell needed"
        assert test[:3] == ["CMD", "python", "-c"], f"{name}: the slim image has no curl"
        assert "urllib.request.urlopen" in test[3]


def test_services_share_the_data_volume_that_holds_the_sms_outbox() -> None:
    volumes = set()
    for name, service in minqing_services().items():
        environment = resolved_environment(service)
        data_dir = PurePosixPath(environment["MINQING_DATA_DIR"])
        volume = named_volume_mounts(service).get(data_dir)
        assert volume is not None, f"{name}: {data_dir} is not on a named volume"
        assert volume in (compose().get("volumes") or {}), volume
        volumes.add(volume)
        gateway = urlsplit(environment["MINQING_SMS_GATEWAY"])
        assert gateway.scheme == "file"
        assert data_dir in PurePosixPath(gateway.path).parents, f"{name}: outbox off the volume"
    assert len(volumes) == 1, f"the services do not share one data volume: {volumes}"


# --- PostgreSQL ------------------------------------------------------------------------------


def test_postgres_init_creates_one_database_per_service_owned_by_minqing() -> None:
    created = dict(re.findall(r"CREATE\s+DATABASE\s+(\w+)\s+OWNER\s+(\w+)", init_sql(), re.I))
    assert set(created) == {f"minqing_{s}" for s in SERVICE_NAMES}
    assert set(created.values()) == {"minqing"}
    assert len(re.findall(r"CREATE\s+DATABASE", init_sql(), re.I)) == len(SERVICE_NAMES)


def test_database_urls_use_the_role_and_databases_init_creates() -> None:
    role = re.search(r"CREATE\s+ROLE\s+(\w+)\s+WITH\s+LOGIN\s+PASSWORD\s+'([^']*)'", init_sql())
    assert role, "init.sql must create a login role with a password"
    for name, service in minqing_services().items():
        settings = load_settings(resolved_environment(service))
        for served in SERVICE_NAMES:
            url = urlsplit(settings.database_url(served))
            assert (url.hostname, url.port) == ("postgres", 5432), (name, served)
            assert (url.username, url.password) == (role[1], role[2]), (name, served)
            assert database_name(settings.database_url(served)) == f"minqing_{served}"


def test_database_url_template_formats_to_the_created_databases() -> None:
    created = set(re.findall(r"CREATE\s+DATABASE\s+(\w+)", init_sql(), re.I))
    for service in minqing_services().values():
        template = resolved_environment(service)["MINQING_DATABASE_URL"]
        assert "{service}" in template, "compose must leave {service} for Minqing to fill in"
        assert {database_name(template.format(service=s)) for s in SERVICE_NAMES} == created


def test_postgres_runs_the_init_script_from_the_repository() -> None:
    postgres = compose_services()["postgres"]
    scripts = [
        source
        for target, source in bind_mounts(postgres).items()
        if target.parent == PurePosixPath("/docker-entrypoint-initdb.d")
    ]
    assert scripts == [POSTGRES_INIT.resolve()]


# --- RabbitMQ --------------------------------------------------------------------------------


def test_rabbitmq_definitions_declare_the_bus_topology() -> None:
    definitions = rabbitmq_definitions()
    assert "/" in {vhost["name"] for vhost in definitions["vhosts"]}
    exchanges = {(e["vhost"], e["name"]): e for e in definitions["exchanges"]}
    for name, kind in [
        ("minqing.events", "topic"),
        ("minqing.dead", "topic"),
        ("minqing.departments", "direct"),
    ]:
        exchange = exchanges[("/", name)]
        assert (exchange["type"], exchange["durable"]) == (kind, True), name
        assert not exchange.get("auto_delete", False), name
    (dead,) = [q for q in definitions["queues"] if (q["vhost"], q["name"]) == ("/", "minqing.dead")]
    assert dead["durable"] is True
    assert dead["arguments"].get("x-queue-type") == "quorum"
    assert {
        "source": "minqing.dead",
        "vhost": "/",
        "destination": "minqing.dead",
        "destination_type": "queue",
        "routing_key": "#",
        "arguments": {},
    } in definitions["bindings"]


def test_dead_letter_queue_in_definitions_is_declared_exactly_as_the_code_declares_it() -> None:
    # RabbitMQ refuses (406 PRECONDITION_FAILED) a declaration whose arguments differ.
    declared = bus.Bus("amqp://minqing@rabbitmq//").dead_letter_queue()
    definitions = rabbitmq_definitions()
    (queue,) = [q for q in definitions["queues"] if q["name"] == declared.name]
    assert (queue["durable"], queue["arguments"]) == (declared.durable, declared.queue_arguments)
    (binding,) = [b for b in definitions["bindings"] if b["destination"] == declared.name]
    assert (binding["source"], binding["routing_key"]) == (
        declared.exchange.name,
        declared.routing_key,
    )
    exchanges = {e["name"]: e["type"] for e in definitions["exchanges"]}
    assert exchanges == {
        bus.EVENTS_EXCHANGE: "topic",
        bus.DEAD_EXCHANGE: declared.exchange.type,
        bus.DEPARTMENTS_EXCHANGE: "direct",
    }


def test_rabbitmq_definitions_leave_handler_queues_to_the_code() -> None:
    assert [q["name"] for q in rabbitmq_definitions()["queues"]] == ["minqing.dead"]


def test_broker_user_in_compose_exists_with_that_password_and_full_vhost_rights() -> None:
    definitions = rabbitmq_definitions()
    users = {u["name"]: u for u in definitions["users"]}
    assert "guest" not in users, "the code refuses guest on a non-loopback broker"
    for name, service in minqing_services().items():
        url = urlsplit(resolved_environment(service)["MINQING_BROKER_URL"])
        assert (url.scheme, url.hostname, url.port) == ("amqp", "rabbitmq", 5672), name
        assert url.username in users, f"{name}: broker user {url.username!r} is not defined"
        user = users[url.username]
        assert rabbitmq_password_matches(
            unquote(url.password or ""), user["password_hash"], user["hashing_algorithm"]
        ), f"{name}: MINQING_BROKER_URL's password does not match definitions.json"
        vhost = unquote(url.path[1:]) or "/"
        assert {
            "user": url.username,
            "vhost": vhost,
            "configure": ".*",
            "write": ".*",
            "read": ".*",
        } in definitions["permissions"], f"{name}: the broker user needs full rights on {vhost}"


def test_rabbitmq_loads_the_definitions_from_the_repository() -> None:
    rabbitmq = compose_services()["rabbitmq"]
    assert rabbitmq["image"] == "rabbitmq:3.13-management"
    conf_targets = [t for t, s in bind_mounts(rabbitmq).items() if s == RABBITMQ_CONF.resolve()]
    assert conf_targets, "rabbitmq.conf is not mounted"
    (conf_target,) = conf_targets
    assert conf_target == PurePosixPath("/etc/rabbitmq/rabbitmq.conf") or (
        conf_target.parent == PurePosixPath("/etc/rabbitmq/conf.d")
        and conf_target.suffix == ".conf"
    )
    definitions_path = rabbitmq_conf()["load_definitions"]
    assert repository_path_in(rabbitmq, definitions_path) == RABBITMQ_DEFINITIONS.resolve()


# --- Prometheus ------------------------------------------------------------------------------


def test_prometheus_scrapes_rabbitmq_prometheus_plugin() -> None:
    jobs = read_yaml(PROMETHEUS_CONFIG)["scrape_configs"]
    targets = [t for job in jobs for static in job["static_configs"] for t in static["targets"]]
    assert "rabbitmq:15692" in targets


def test_prometheus_loads_its_config_and_alert_rules_from_the_repository() -> None:
    prometheus = compose_services()["prometheus"]
    assert repository_path_in(prometheus, "/etc/prometheus/prometheus.yml") == (
        PROMETHEUS_CONFIG.resolve()
    )
    rule_files = read_yaml(PROMETHEUS_CONFIG)["rule_files"]
    assert [repository_path_in(prometheus, f) for f in rule_files] == [PROMETHEUS_ALERTS.resolve()]


def test_alerts_cover_outbox_dead_letters_and_service_down() -> None:
    rules = {rule["alert"]: rule for rule in alert_rules()}
    exprs = {" ".join(str(rule["expr"]).split()): rule.get("for") for rule in rules.values()}
    assert exprs.get("minqing_outbox_oldest_unsent_age_seconds > 60") == "5m"
    assert "increase(minqing_events_dead_lettered_total[10m]) > 0" in exprs
    assert exprs.get('up{job="minqing"} == 0') == "2m"
    for name, rule in rules.items():
        assert rule.get("labels", {}).get("severity") in {"warning", "critical"}, name
        assert rule.get("annotations", {}).get("summary"), name


# --- Grafana ---------------------------------------------------------------------------------


def test_the_dashboards_folder_holds_exactly_the_known_dashboards() -> None:
    assert [path.name for path in dashboard_files()] == sorted(DASHBOARD_UIDS)


@pytest.mark.parametrize("path", dashboard_files(), ids=lambda p: p.name)
def test_dashboard_has_its_uid_and_uses_only_the_provisioned_datasource(path: Path) -> None:
    board = dashboard(path)
    assert board["uid"] == DASHBOARD_UIDS[path.name]
    assert isinstance(board["schemaVersion"], int)
    panels = [p for p in dashboard_panels(board["panels"]) if p.get("type") != "row"]
    assert panels
    for panel in panels:
        assert panel["datasource"]["uid"] == GRAFANA_DATASOURCE_UID, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            uid = target.get("datasource", {}).get("uid", GRAFANA_DATASOURCE_UID)
            assert uid == GRAFANA_DATASOURCE_UID, panel["title"]


@pytest.mark.parametrize("source", [*(p.name for p in dashboard_files()), "alerts"])
def test_dashboard_and_alerts_query_only_metrics_the_code_exports(source: str) -> None:
    if source == "alerts":
        exprs = [str(r["expr"]) for r in alert_rules()]
    else:
        exprs = dashboard_exprs(GRAFANA_DASHBOARDS / source)
    used = set().union(*(metric_names(expr) for expr in exprs))
    assert used, f"no Minqing metric in the {source}"
    unknown = used - exported_series()
    assert not unknown, f"the {source} queries series the code never exports: {sorted(unknown)}"


def test_exported_series_follow_prometheus_naming() -> None:
    series = exported_series()
    # Guards the check above against passing on an empty or mis-suffixed registry.
    assert {
        "minqing_events_consumed_total",
        "minqing_handler_duration_seconds_bucket",
        "minqing_consumer_lag_messages",
        "minqing_cases_received_total",
    } <= series
    assert "minqing_events_consumed" not in series


@pytest.mark.parametrize(
    ("alert", "metric"),
    [
        ("MinqingConsumerDown", "minqing_queue_consumers"),
        ("MinqingConsumerLagGrowing", "minqing_consumer_lag_messages"),
        ("MinqingDeadlineBreachesRising", "minqing_events_published_total"),
        ("MinqingSmsDeliveryLow", "minqing_messages_settled_total"),
        ("MinqingOutboxStuck", "minqing_outbox_oldest_unsent_age_seconds"),
        ("MinqingDeadLettersGrowing", "minqing_events_dead_lettered_total"),
    ],
)
def test_operators_are_alerted_with_what_to_do(alert: str, metric: str) -> None:
    rules = {rule["alert"]: rule for rule in alert_rules()}
    assert alert in rules, f"alerts.yml has no {alert}"
    rule = rules[alert]
    assert metric in metric_names(str(rule["expr"])), alert
    if alert != "MinqingDeadLettersGrowing":
        # Fires on the first dead letter; the others must persist before they page anyone.
        assert re.fullmatch(r"\d+[smh]", str(rule.get("for", ""))), f"{alert} needs `for:`"
    assert rule["labels"]["severity"] in {"warning", "critical"}, alert
    assert rule["annotations"].get("description"), f"{alert} must say what to do"


def test_deadline_alert_counts_routings_overdue_events() -> None:
    (rule,) = [r for r in alert_rules() if r["alert"] == "MinqingDeadlineBreachesRising"]
    assert 'type="case.overdue"' in str(rule["expr"])
    assert CaseOverdue.event_type == "case.overdue"


def test_operators_dashboard_shows_queues_and_sms_delivery() -> None:
    used = set().union(*(metric_names(expr) for expr in dashboard_exprs()))
    assert {
        "minqing_consumer_lag_messages",
        "minqing_queue_consumers",
        "minqing_messages_settled_total",
        "minqing_handler_duration_seconds_bucket",
        "minqing_outbox_backlog",
        "minqing_events_dead_lettered_total",
    } <= used


def test_leaders_dashboard_shows_the_business_figures_of_this_month() -> None:
    exprs = dashboard_exprs(LEADERS_DASHBOARD)
    used = set().union(*(metric_names(expr) for expr in exprs))
    assert {
        "minqing_cases_received_total",
        "minqing_cases",
        "minqing_cases_by_department",
    } <= used
    # Leaders read a month, as on the reporting service's own page, in the county's time.
    board = dashboard(LEADERS_DASHBOARD)
    assert board["time"] == {"from": "now/M", "to": "now"}
    assert board["timezone"] == "Asia/Shanghai"


def test_leaders_dashboard_names_only_real_statuses_and_event_types() -> None:
    from services.kernel.events.registry import registered
    from services.reporting.projections import STATUS_ORDER

    exprs = dashboard_exprs(LEADERS_DASHBOARD)
    status_sets = [
        set(match.split("|")) for expr in exprs for match in re.findall(r'status=~"([^"]+)"', expr)
    ]
    assert status_sets
    for statuses in status_sets:
        assert statuses <= set(STATUS_ORDER), statuses
    # "Open" and "finished" between them cover every status, each once.
    open_and_finished = {frozenset(s) for s in status_sets}
    assert len(open_and_finished) == 2
    first, second = open_and_finished
    assert first | second == set(STATUS_ORDER)
    assert not first & second
    types = {match for expr in exprs for match in re.findall(r'type="([^"]+)"', expr)}
    assert types
    assert types <= {cls.event_type for cls in registered()}


@pytest.mark.parametrize("path", dashboard_files(), ids=lambda p: p.name)
def test_dashboard_panels_are_laid_out_as_grafana_provisions_them(path: Path) -> None:
    board = dashboard(path)
    assert board.get("id") is None, "a provisioned dashboard carries no database id"
    panels = list(dashboard_panels(board["panels"]))
    ids = [panel["id"] for panel in panels]
    assert len(set(ids)) == len(ids), "panel ids must be unique"
    for panel in panels:
        grid = panel["gridPos"]
        assert all(isinstance(grid[k], int) for k in ("h", "w", "x", "y")), panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        refs = [target["refId"] for target in panel.get("targets", [])]
        assert len(set(refs)) == len(refs), panel["title"]


def test_grafana_datasource_provisioning_defines_the_prometheus_uid() -> None:
    provisioning = read_yaml(GRAFANA_DATASOURCES)
    assert provisioning["apiVersion"] == 1
    (datasource,) = provisioning["datasources"]
    assert datasource["uid"] == GRAFANA_DATASOURCE_UID
    assert datasource["type"] == "prometheus"
    url = urlsplit(datasource["url"])
    assert (url.hostname, url.port) == ("prometheus", 9090)
    assert "prometheus" in compose_services()


def test_grafana_dashboard_provider_reads_the_mounted_dashboards_folder() -> None:
    provisioning = read_yaml(GRAFANA_DASHBOARD_PROVIDERS)
    assert provisioning["apiVersion"] == 1
    (provider,) = provisioning["providers"]
    assert provider["type"] == "file"
    grafana = compose_services()["grafana"]
    assert repository_path_in(grafana, provider["options"]["path"]) == GRAFANA_DASHBOARDS.resolve()
    assert PIPELINE_DASHBOARD.parent == LEADERS_DASHBOARD.parent == GRAFANA_DASHBOARDS


def test_grafana_reads_provisioning_from_the_repository() -> None:
    grafana = compose_services()["grafana"]
    provisioning = PurePosixPath("/etc/grafana/provisioning")
    for path in (GRAFANA_DATASOURCES, GRAFANA_DASHBOARD_PROVIDERS):
        inside = provisioning / path.parent.name / path.name
        assert repository_path_in(grafana, str(inside)) == path.resolve(), inside


# --- the image -------------------------------------------------------------------------------


def test_image_installs_the_project_with_its_console_script() -> None:
    runs = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "RUN"]
    assert any(re.search(r"\bpip install\b.*\s\.(\s|$)", run) for run in runs)
    copies = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "COPY"]
    assert any(re.fullmatch(r"(--\S+\s+)*\.\s+\S+", copy) for copy in copies), "copy the repo"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "minqing" in pyproject["project"]["scripts"], "compose runs the `minqing` command"


def test_image_is_python_311_slim_and_runs_as_an_unprivileged_user() -> None:
    instructions = dockerfile_instructions()
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "python:3.11-slim" in text
    users = [arguments for keyword, arguments in final_stage(instructions) if keyword == "USER"]
    assert users, "the runtime stage must switch user"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_every_minqing_service_is_built_from_the_one_image() -> None:
    for name, service in minqing_services().items():
        build = service.get("build", {})
        assert build.get("context") == ".", name
        assert (ROOT / build.get("dockerfile", "")).resolve() == DOCKERFILE.resolve(), name
    assert len({s.get("image") for s in minqing_services().values()}) == 1


def test_build_context_ignores_local_state() -> None:
    ignored = {
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "var", "**/__pycache__"} <= ignored
    assert not {"services", "pyproject.toml"} & ignored
