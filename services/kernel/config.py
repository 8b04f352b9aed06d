"""Settings from the environment (`MINQING_*`): the one place that knows every variable."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from urllib.parse import urlsplit

SERVICE_NAMES = ("intake", "routing", "notify", "reporting")

# Every variable Minqing reads, so deploy files can be checked against it.
_GLOBAL_VARIABLES = (
    "MINQING_BROKER_URL",
    "MINQING_DATABASE_URL",
    "MINQING_DATA_DIR",
    "MINQING_SMS_GATEWAY",
    "MINQING_SMS_SIGNATURE",
    "MINQING_SECRET_KEY",
    "MINQING_LOG_LEVEL",
    "MINQING_OUTBOX_RETENTION_DAYS",
    "MINQING_RATE_LIMIT_PER_IP",
    "MINQING_RATE_LIMIT_PER_PHONE",
    "MINQING_DB_POOL_SIZE",
    "MINQING_OPEN311_JURISDICTION",
    "MINQING_SMTP_HOST",
    "MINQING_SMTP_PORT",
    "MINQING_MAIL_ADDRESS",
    "MINQING_IMAP_URL",
    "MINQING_IMAP_POLL_SECONDS",
    "MINQING_EMAIL_GATEWAY",
    "MINQING_DISPATCH_CONFIDENCE",
    "MINQING_HTTP_WORKERS",
    "MINQING_QUIET_HOURS",
    "MINQING_SMS_DAILY_CAP",
    "MINQING_SMS_SIGNATURE_EN",
    "MINQING_NOTIFY_LEADERS",
    "MINQING_NOTIFY_SUPERVISORS",
    "MINQING_SMS_GATEWAY_SECRET",
    "MINQING_SMS_RECEIPT_TIMEOUT",
    "MINQING_ASSESSMENT_RULES",
)
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
# Connections each service keeps open to its database; see kernel.db.
DEFAULT_DB_POOL_SIZE = 24
_MIN_SECRET_LENGTH = 32
DEFAULT_OPEN311_JURISDICTION = "minqing"

# What `minqing up` and `minqing serve intake` receive mail on unless told otherwise.
DEFAULT_SMTP_PORT = 2525
DEFAULT_MAIL_ADDRESS = "12345@localhost"


# Longest SMS signature accepted, brackets included: notify's templates fit one part with it.
SMS_SIGNATURE_MAX = 12
SMS_SIGNATURE_EN_MAX = 16
# The English signature stays in the GSM-7 alphabet, or every English SMS would go out as UCS-2.
_SIGNATURE_EN = re.compile(r"^[A-Za-z0-9 ()\[\].,&'-]+$")
# A mainland mobile, or a landline with its area code.
_PHONE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")


class ConfigError(ValueError):
    """A setting is missing, malformed or unsafe for the mode it is used in."""


_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Rate:
    """`count` requests per `period` seconds."""

    count: int
    period: int


def parse_rate(name: str, text: str) -> Rate | None:
    """`30/minute`, `10/hour`, ... or `off` (None: no limit)."""
    if text.strip().lower() == "off":
        return None
    count, _, period = text.strip().partition("/")
    if not count.isdigit() or int(count) < 1 or period not in _PERIODS:
        raise ConfigError(f"{name}: expected <count>/<second|minute|hour|day> or off, got {text!r}")
    return Rate(int(count), _PERIODS[period])


def service_database_variable(service: str) -> str:
    return f"MINQING_{service.upper()}_DATABASE_URL"


def known_environment_variables() -> frozenset[str]:
    return frozenset(_GLOBAL_VARIABLES) | {service_database_variable(s) for s in SERVICE_NAMES}


@dataclass(frozen=True)
class Settings:
    broker_url: str
    database_urls: Mapping[str, str]
    data_dir: Path
    sms_gateway: str
    sms_signature: str
    secret_key: str = field(repr=False)
    log_level: str = "INFO"
    outbox_retention_days: int = 7
    db_pool_size: int = DEFAULT_DB_POOL_SIZE
    rate_limit_per_ip: Rate | None = None
    rate_limit_per_phone: Rate | None = None
    # The jurisdiction_id Open311 clients may name; the county's website domain, by the spec.
    open311_jurisdiction: str = DEFAULT_OPEN311_JURISDICTION
    # The email channel: the SMTP receiver (None: none in this process), the county's mailbox
    # addresses (the first one signs the acknowledgements), an IMAP mailbox to poll.
    smtp_host: str = "127.0.0.1"
    smtp_port: int | None = None
    mail_addresses: tuple[str, ...] = (DEFAULT_MAIL_ADDRESS,)
    imap_url: str | None = field(default=None, repr=False)
    imap_poll_seconds: float = 30.0
    email_gateway: str = ""
    # The classifier's confidence at or above which routing dispatches a case by itself;
    # below it, the case waits for a dispatcher with the classifier's suggestions.
    dispatch_confidence: float = 0.6
    # Processes serving a service's HTTP port (`serve --http-workers`); see kernel.workers.
    http_workers: int = 1
    # Local hours (start, end) in which non-urgent SMS wait; None: no quiet hours.
    quiet_hours: tuple[time, time] | None = (time(21), time(8))
    # SMS per number and local day; beyond it, non-urgent messages merge into one digest.
    sms_daily_cap: int = 50
    # English messages carry their own signature; leaders hear of major matters, supervisors of
    # work orders due soon or overdue (the liaison officers come from the catalogue).
    sms_signature_en: str = "[Minqing 12345]"
    leader_phones: tuple[str, ...] = ()
    supervisor_phones: tuple[str, ...] = ()
    # Signs requests to an HTTP SMS gateway and checks its callbacks (receipts, replies).
    sms_gateway_secret: str = field(default="", repr=False)
    # Seconds to wait for an SMS's delivery receipt before reaching the citizen another way.
    sms_receipt_timeout: int = 1800

    @property
    def embedded(self) -> bool:
        """Embedded mode: one process on the in-memory broker."""
        return self.broker_url.startswith("memory://")

    def database_url(self, service: str) -> str:
        return self.database_urls[service]


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings, refusing insecure defaults outside the embedded mode."""
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("MINQING_DATA_DIR", "var")).resolve()
    broker_url = env.get("MINQING_BROKER_URL", "memory://")
    embedded = broker_url.startswith("memory://")
    template = env.get("MINQING_DATABASE_URL", f"sqlite:///{data_dir}/{{service}}.db")
    database_urls = {
        s: _normalise_database_url(
            env.get(service_database_variable(s)) or template.format(service=s)
        )
        for s in SERVICE_NAMES
    }
    if len(set(database_urls.values())) != len(SERVICE_NAMES):
        raise ConfigError(
            "MINQING_DATABASE_URL: each service needs its own database; put {service} in the URL "
            "or set MINQING_<SERVICE>_DATABASE_URL for each service"
        )
    settings = Settings(
        broker_url=broker_url,
        database_urls=database_urls,
        data_dir=data_dir,
        sms_gateway=env.get("MINQING_SMS_GATEWAY", f"file://{data_dir}/sms-outbox.jsonl"),
        sms_signature=_signature(env, "MINQING_SMS_SIGNATURE", "【民情12345】"),
        sms_signature_en=_signature(env, "MINQING_SMS_SIGNATURE_EN", "[Minqing 12345]"),
        leader_phones=_phones(env, "MINQING_NOTIFY_LEADERS"),
        supervisor_phones=_phones(env, "MINQING_NOTIFY_SUPERVISORS"),
        secret_key=env.get("MINQING_SECRET_KEY", "") or _embedded_secret(data_dir, embedded),
        log_level=env.get("MINQING_LOG_LEVEL", "INFO").upper(),
        outbox_retention_days=_positive_int(env, "MINQING_OUTBOX_RETENTION_DAYS", 7),
        db_pool_size=_positive_int(env, "MINQING_DB_POOL_SIZE", DEFAULT_DB_POOL_SIZE),
        # Generous for one citizen or one office behind a shared address; tight for a script.
        rate_limit_per_ip=parse_rate(
            "MINQING_RATE_LIMIT_PER_IP", env.get("MINQING_RATE_LIMIT_PER_IP", "60/minute")
        ),
        rate_limit_per_phone=parse_rate(
            "MINQING_RATE_LIMIT_PER_PHONE", env.get("MINQING_RATE_LIMIT_PER_PHONE", "20/hour")
        ),
        open311_jurisdiction=env.get("MINQING_OPEN311_JURISDICTION", "").strip()
        or DEFAULT_OPEN311_JURISDICTION,
        smtp_host=env.get("MINQING_SMTP_HOST", "127.0.0.1"),
        smtp_port=_smtp_port(env.get("MINQING_SMTP_PORT", "off")),
        mail_addresses=_mail_addresses(env.get("MINQING_MAIL_ADDRESS", DEFAULT_MAIL_ADDRESS)),
        imap_url=env.get("MINQING_IMAP_URL") or None,
        imap_poll_seconds=_positive_int(env, "MINQING_IMAP_POLL_SECONDS", 30),
        email_gateway=env.get("MINQING_EMAIL_GATEWAY", f"file://{data_dir}/email-outbox.jsonl"),
        dispatch_confidence=_fraction(env, "MINQING_DISPATCH_CONFIDENCE", 0.6),
        http_workers=_positive_int(env, "MINQING_HTTP_WORKERS", 1),
        quiet_hours=_quiet_hours(env.get("MINQING_QUIET_HOURS", "21:00-08:00")),
        sms_daily_cap=_positive_int(env, "MINQING_SMS_DAILY_CAP", 50),
        sms_gateway_secret=env.get("MINQING_SMS_GATEWAY_SECRET", ""),
        sms_receipt_timeout=_positive_int(env, "MINQING_SMS_RECEIPT_TIMEOUT", 1800),
    )
    if not embedded:
        _refuse_insecure_production(settings)
    return settings


def _normalise_database_url(url: str) -> str:
    # psycopg 3 is the one PostgreSQL driver we ship; plain postgresql:// means it.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name}: must be positive, got {value}")
    return value


def _fraction(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a number from 0 to 1, got {raw!r}") from None
    if not 0 <= value <= 1:
        raise ConfigError(f"{name}: must be from 0 to 1, got {value}")
    return value


def _signature(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, default)
    english = name.endswith("_EN")
    longest = SMS_SIGNATURE_EN_MAX if english else SMS_SIGNATURE_MAX
    if not 0 < len(value) <= longest:
        raise ConfigError(f"{name}: 1 to {longest} characters, got {len(value)}")
    if english and not _SIGNATURE_EN.match(value):
        raise ConfigError(f"{name}: only letters, digits, spaces and ()[].,&'- are allowed")
    return value


def _phones(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated phone numbers; an error names the position, never the number."""
    listed = [p.strip() for p in env.get(name, "").split(",") if p.strip()]
    for n, phone in enumerate(listed, 1):
        if not _PHONE.match(phone):
            raise ConfigError(f"{name}: number {n} is not a mobile or landline number")
    return tuple(dict.fromkeys(listed))


def _smtp_port(raw: str) -> int | None:
    """A port to receive mail on, or None for `off`."""
    if raw.strip().lower() == "off":
        return None
    if not raw.strip().isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"MINQING_SMTP_PORT: expected a port number or off, got {raw!r}")
    return int(raw)


def _quiet_hours(raw: str) -> tuple[time, time] | None:
    """`HH:MM-HH:MM` in local time (may cross midnight), or `off`."""
    if raw.strip().lower() == "off":
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in raw.split("-"))
    except ValueError:
        raise ConfigError(
            f"MINQING_QUIET_HOURS: expected HH:MM-HH:MM or off, got {raw!r}"
        ) from None
    if start == end:
        raise ConfigError(f"MINQING_QUIET_HOURS: start and end are the same, got {raw!r}")
    return start, end


def _mail_addresses(raw: str) -> tuple[str, ...]:
    addresses = tuple(a.strip().lower() for a in raw.split(",") if a.strip())
    if not addresses or any(a.count("@") != 1 for a in addresses):
        raise ConfigError(
            f"MINQING_MAIL_ADDRESS: expected one or more addresses separated by commas, got {raw!r}"
        )
    return addresses


def _embedded_secret(data_dir: Path, embedded: bool) -> str:
    """Embedded mode keeps a generated key in the data directory; production must set one."""
    if not embedded:
        return ""
    path = data_dir / "secret-key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _refuse_insecure_production(settings: Settings) -> None:
    if len(settings.secret_key) < _MIN_SECRET_LENGTH:
        raise ConfigError(
            f"MINQING_SECRET_KEY: required with a networked broker, at least "
            f"{_MIN_SECRET_LENGTH} characters (e.g. `python -c 'import secrets; "
            f"print(secrets.token_urlsafe(48))'`)"
        )
    broker = urlsplit(settings.broker_url)
    if broker.hostname not in _LOOPBACK_HOSTS and broker.username in (None, "guest"):
        raise ConfigError(
            "MINQING_BROKER_URL: the default guest account only works on loopback; "
            "give the broker its own user and password"
        )
