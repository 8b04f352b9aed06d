"""The bulletin's page in a real headless Chromium, served by `minqing serve reporting`: its
charts draw, it fits a phone, and it reads in English on request."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.by import By

from services.kernel.auth import COOKIE_NAME, Staff, mint_token
from tests.browser import chromium, full_page_screenshot, horizontal_overflow, phone_sized
from tests.reporting_history import history
from tests.support import (
    TEST_SECRET,
    postgres_databases,
    publish_envelopes,
    rabbitmq_vhost,
    running_services,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

PAGE = "/api/v1/reports/bulletin?from=2026-11-01&to=2026-11-30&format=html"


def test_the_bulletin_page_draws_its_charts_and_fits_a_phone(tmp_path: Path) -> None:
    token = mint_token(Staff("sv-1", "李强", frozenset({"supervisor"})), TEST_SECRET)
    shots = Path(os.environ.get("MINQING_SCREENSHOT_DIR", tmp_path))
    with (
        postgres_databases() as database_url,
        rabbitmq_vhost() as amqp_url,
        running_services(["reporting"], database_url, amqp_url, tmp_path) as cluster,
    ):
        url = cluster.url("reporting")
        publish_envelopes(amqp_url, history())

        def counted() -> bool:
            text = httpx.get(
                f"{url}/api/v1/reports/bulletin",
                params={"from": "2026-11-01", "to": "2026-11-30"},
                headers={"Authorization": f"Bearer {token}"},
            ).text
            return "交办较多的部门：trans（交办3件，办结3件）" in text

        wait_until(counted, 30, interval=0.5)
        with chromium(tmp_path / "profile") as driver:
            driver.get(f"{url}/healthz")
            driver.add_cookie({"name": COOKIE_NAME, "value": token, "path": "/"})
            driver.get(f"{url}{PAGE}")
            assert "本期共受理群众诉求7件" in driver.find_element(By.ID, "bulletin-text").text
            charts = driver.find_elements(By.CSS_SELECTOR, "#bulletin-charts svg")
            assert len(charts) == 4
            assert all(chart.size["width"] > 200 and chart.size["height"] > 40 for chart in charts)
            bars = driver.find_elements(By.CSS_SELECTOR, "#bulletin-charts rect")
            assert any(bar.size["width"] > 50 for bar in bars)
            full_page_screenshot(driver, shots / "bulletin-wide.png")

            phone_sized(driver)
            driver.get(f"{url}{PAGE}&lang=en")
            assert "7 requests received" in driver.find_element(By.ID, "bulletin-text").text
            assert horizontal_overflow(driver) == 0
            assert full_page_screenshot(driver, shots / "bulletin-phone.png").stat().st_size > 0
