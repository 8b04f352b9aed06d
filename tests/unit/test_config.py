"""Settings from `MINQING_*`: embedded defaults, per-service databases, production safety."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from services.kernel.config import (
    SERVICE_NAMES,
    ConfigError,
    Rate,
    known_environment_variables,
    load_settings,
)

GOOD_SECRET = "s" * 48
BROKER = "amqp://minqing:broker-password@rabbitmq.internal:5672/minqing"


def production(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        "MINQING_DATA_DIR": str(tmp_path),
        "MINQING_BROKER_URL": BROKER,
        "MINQING_DATABASE_URL": "postgresql://minqing:db-password@postgres.internal/{service}",
        "MINQING_SECRET_KEY": GOOD_SECRET,
    }
    env.update(overrides)
    return env


def test_embedded_defaults_use_memory_broker_and_files_under_the_data_dir(
    tmp_path: Path,
) -> None:
    settings = load_settings({"MINQING_DATA_DIR": str(tmp_path)})
    data_dir = tmp_path.resolve()

    assert settings.embedded
    assert settings.broker_url == "memory://"
    assert settings.data_dir == data_dir
    for service in SERVICE_NAMES:
        assert settings.database_url(service) == f"sqlite:///{data_dir}/{service}.db"
    assert settings.sms_gateway == f"file://{data_dir}/sms-outbox.jsonl"
    assert settings.log_level == "INFO"
    assert settings.outbox_retention_days == 7


def test_embedded_mode_generates_a_secret_key_once_and_keeps_it(tmp_path: Path) -> None:
    first = load_settings({"MINQING_DATA_DIR": str(tmp_path)})
    second = load_settings({"MINQING_DATA_DIR": str(tmp_path)})

    assert len(first.secret_key) >= 32
    assert second.secret_key == first.secret_key
    assert (tmp_path / "secret-key").stat().st_mode & 0o077 == 0


def test_secret_key_is_not_shown_in_the_settings_repr(tmp_path: Path) -> None:
    settings = load_settings(production(tmp_path))

    assert GOOD_SECRET not in repr(settings)


def test_one_service_database_can_be_overridden(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "MINQING_DATA_DIR": str(tmp_path),
            "MINQING_ROUTING_DATABASE_URL": "sqlite:////srv/minqing/routing-archive.db",
        }
    )

    assert settings.database_url("routing") == "sqlite:////srv/minqing/routing-archive.db"
    assert settings.database_url("intake") == f"sqlite:///{tmp_path.resolve()}/intake.db"


def test_database_url_template_gives_each_service_its_own_database(tmp_path: Path) -> None:
    settings = load_settings(production(tmp_path))

    assert settings.database_urls == {
        service: f"postgresql+psycopg://minqing:db-password@postgres.internal/{service}"
        for service in SERVICE_NAMES
    }


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_plain_postgresql_urls_mean_psycopg(tmp_path: Path, scheme: str) -> None:
    settings = load_settings(
        production(tmp_path, MINQING_NOTIFY_DATABASE_URL=f"{scheme}://u:p@db.internal/notify")
    )

    assert settings.database_url("notify") == "postgresql+psycopg://u:p@db.internal/notify"


def test_explicit_driver_in_database_url_is_kept(tmp_path: Path) -> None:
    url = "postgresql+psycopg://u:p@db.internal/{service}"

    settings = load_settings(production(tmp_path, MINQING_DATABASE_URL=url))

    assert settings.database_url("intake") == "postgresql+psycopg://u:p@db.internal/intake"


def test_database_url_shared_by_all_services_is_refused(tmp_path: Path) -> None:
    env = production(tmp_path, MINQING_DATABASE_URL="postgresql://u:p@db.internal/minqing")

    with pytest.raises(ConfigError, match="MINQING_DATABASE_URL"):
        load_settings(env)


def test_shared_database_url_is_fine_when_every_service_has_its_own(tmp_path: Path) -> None:
    env = production(tmp_path, MINQING_DATABASE_URL="postgresql://u:p@db.internal/minqing")
    for service in SERVICE_NAMES:
        env[f"MINQING_{service.upper()}_DATABASE_URL"] = f"postgresql://u:p@db.internal/{service}"

    settings = load_settings(env)

    assert settings.database_url("reporting") == "postgresql+psycopg://u:p@db.internal/reporting"


def test_production_without_a_secret_key_is_refused(tmp_path: Path) -> None:
    env = production(tmp_path)
    del env["MINQING_SECRET_KEY"]

    with pytest.raises(ConfigError, match="MINQING_SECRET_KEY"):
        load_settings(env)
    assert not (tmp_path / "secret-key").exists()


def test_production_with_a_short_secret_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="MINQING_SECRET_KEY"):
        load_settings(production(tmp_path, MINQING_SECRET_KEY="x" * 31))


def test_production_accepts_a_32_character_secret_key(tmp_path: Path) -> None:
    settings = load_settings(production(tmp_path, MINQING_SECRET_KEY="x" * 32))

    assert not settings.embedded
    assert settings.secret_key == "x" * 32


@pytest.mark.parametrize(
    "broker",
    ["amqp://guest:guest@rabbitmq.internal:5672//", "amqp://rabbitmq.internal:5672//"],
    ids=["guest-user", "no-user"],
)
def test_default_broker_account_on_a_remote_host_is_refused(tmp_path: Path, broker: str) -> None:
    with pytest.raises(ConfigError, match="MINQING_BROKER_URL"):
        load_settings(production(tmp_path, MINQING_BROKER_URL=broker))


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_guest_account_on_loopback_is_allowed(tmp_path: Path, host: str) -> None:
    broker = f"amqp://guest:guest@{host}:5672//"

    settings = load_settings(production(tmp_path, MINQING_BROKER_URL=broker))

    assert settings.broker_url == broker


@pytest.mark.parametrize("raw", ["seven", "7.5", "0", "-3", ""])
def test_bad_outbox_retention_days_is_refused(tmp_path: Path, raw: str) -> None:
    env = {"MINQING_DATA_DIR": str(tmp_path), "MINQING_OUTBOX_RETENTION_DAYS": raw}

    with pytest.raises(ConfigError, match="MINQING_OUTBOX_RETENTION_DAYS"):
        load_settings(env)


def test_outbox_retention_days_and_log_level_are_read(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "MINQING_DATA_DIR": str(tmp_path),
            "MINQING_OUTBOX_RETENTION_DAYS": "30",
            "MINQING_LOG_LEVEL": "debug",
        }
    )

    assert settings.outbox_retention_days == 30
    assert settings.log_level == "DEBUG"


def test_pool_size_and_rate_limits_are_read(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "MINQING_DATA_DIR": str(tmp_path),
            "MINQING_DB_POOL_SIZE": "10",
            "MINQING_RATE_LIMIT_PER_IP": "5/second",
            "MINQING_RATE_LIMIT_PER_PHONE": "off",
        }
    )

    assert settings.db_pool_size == 10
    assert settings.rate_limit_per_ip == Rate(5, 1)
    assert settings.rate_limit_per_phone is None


def test_bad_pool_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="MINQING_DB_POOL_SIZE"):
        load_settings({"MINQING_DATA_DIR": str(tmp_path), "MINQING_DB_POOL_SIZE": "0"})


def test_known_environment_variables_include_global_and_per_service_names() -> None:
    known = known_environment_variables()

    assert {
        "MINQING_BROKER_URL",
        "MINQING_DATABASE_URL",
        "MINQING_DATA_DIR",
        "MINQING_SMS_GATEWAY",
        "MINQING_SECRET_KEY",
        "MINQING_OUTBOX_RETENTION_DAYS",
        "MINQING_INTAKE_DATABASE_URL",
        "MINQING_ROUTING_DATABASE_URL",
        "MINQING_NOTIFY_DATABASE_URL",
        "MINQING_REPORTING_DATABASE_URL",
    } <= known


def test_quiet_hours_and_daily_cap_default_and_are_read(tmp_path: Path) -> None:
    defaults = load_settings({"MINQING_DATA_DIR": str(tmp_path)})
    assert defaults.quiet_hours == (time(21), time(8))
    assert defaults.sms_daily_cap == 50
    read = load_settings(
        {
            "MINQING_DATA_DIR": str(tmp_path),
            "MINQING_QUIET_HOURS": "22:30-07:00",
            "MINQING_SMS_DAILY_CAP": "10",
        }
    )
    assert read.quiet_hours == (time(22, 30), time(7))
    assert read.sms_daily_cap == 10
    assert (
        load_settings({"MINQING_DATA_DIR": str(tmp_path), "MINQING_QUIET_HOURS": "off"}).quiet_hours
        is None
    )


@pytest.mark.parametrize("raw", ["21-8", "21:00", "25:00-08:00", "08:00-08:00"])
def test_malformed_quiet_hours_are_refused(tmp_path: Path, raw: str) -> None:
    with pytest.raises(ConfigError, match="MINQING_QUIET_HOURS"):
        load_settings({"MINQING_DATA_DIR": str(tmp_path), "MINQING_QUIET_HOURS": raw})


def test_sms_signatures_default_to_one_per_language(tmp_path: Path) -> None:
    settings = load_settings({"MINQING_DATA_DIR": str(tmp_path)})

    assert settings.sms_signature == "【民情12345】"
    assert settings.sms_signature_en == "[Minqing 12345]"
    assert settings.leader_phones == ()
    assert settings.supervisor_phones == ()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MINQING_SMS_SIGNATURE", "【宁海县人民政府便民服务热线】"),
        ("MINQING_SMS_SIGNATURE", ""),
        ("MINQING_SMS_SIGNATURE_EN", "[Ninghai County Hotline]"),
        # Outside GSM-7: every English message would go out as UCS-2, in more parts.
        ("MINQING_SMS_SIGNATURE_EN", "【Ninghai】"),
    ],
)
def test_a_signature_that_would_break_the_sms_budgets_is_refused(
    tmp_path: Path, name: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({"MINQING_DATA_DIR": str(tmp_path), name: value})


def test_leaders_and_supervisors_are_lists_of_numbers(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "MINQING_DATA_DIR": str(tmp_path),
            "MINQING_NOTIFY_LEADERS": " 13900000001, 0574-65551234 ,13900000001",
            "MINQING_NOTIFY_SUPERVISORS": "13900000002",
        }
    )

    assert settings.leader_phones == ("13900000001", "0574-65551234")
    assert settings.supervisor_phones == ("13900000002",)


def test_a_malformed_number_is_refused_without_repeating_it(tmp_path: Path) -> None:
    env = {"MINQING_DATA_DIR": str(tmp_path), "MINQING_NOTIFY_LEADERS": "13900000001,1390000"}

    with pytest.raises(ConfigError, match="number 2") as refused:
        load_settings(env)

    assert "1390000" not in str(refused.value)
