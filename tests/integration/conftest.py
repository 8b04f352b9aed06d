"""Settings for one test: its own PostgreSQL databases (at head) and RabbitMQ vhost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.__main__ import SPECS
from services.kernel.bus import Bus
from services.kernel.config import Settings, load_settings
from services.kernel.processes import declare_topology
from services.kernel.runtime import ServiceRuntime
from tests.support import TEST_SECRET


@pytest.fixture
def settings(postgres_url: str, amqp_url: str, tmp_path: Path) -> Settings:
    settings = load_settings(
        {
            "MINQING_BROKER_URL": amqp_url,
            "MINQING_DATABASE_URL": postgres_url,
            "MINQING_SECRET_KEY": TEST_SECRET,
            "MINQING_DATA_DIR": str(tmp_path),
            "MINQING_SMS_GATEWAY": f"file://{tmp_path}/sms-outbox.jsonl",
            # Tests run at any hour and text one number often: no quiet hours, no daily cap.
            "MINQING_QUIET_HOURS": "off",
            "MINQING_SMS_DAILY_CAP": "1000000",
        }
    )
    declare_topology(Bus(settings.broker_url), list(SPECS.values()))
    return settings


@pytest.fixture
def running() -> Iterator[list[ServiceRuntime]]:
    """Runtimes a test starts; stopped afterwards whatever happens."""
    started: list[ServiceRuntime] = []
    yield started
    for runtime in started:
        runtime.stop_consuming()
        runtime.stop()
