"""The leaders' dashboard in a real headless Chromium, against the embedded `minqing up`.

Citizens submit cases through the web API; intake's events reach reporting over the bus. A
supervisor, added with `minqing staff add`, opens /reports, is sent to sign in, and comes back to
this month's figures, the charts and the hot spot the cases make. Screenshots go to
MINQING_SCREENSHOT_DIR when it is set (to look at them), else to the test's temporary folder.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import (
    chromium,
    full_page_screenshot,
    horizontal_overflow,
    phone_sized,
    refresh_until,
    text_of,
)
from tests.support import MINQING, REPO, MinqingProcess, base_env, case_payload, free_port

pytestmark = pytest.mark.e2e

PASSWORD = "county-leaders-2026"
CASES = 5
ADDRESS = "越溪乡王家村12号"


@dataclass(frozen=True)
class Site:
    url: str
    tracking_numbers: tuple[str, ...]


def add_staff(env: dict[str, str], username: str, *roles: str) -> None:
    role_flags = [flag for role in roles for flag in ("--role", role)]
    added = subprocess.run(
        [*MINQING, "staff", "add", username, "--name", username, *role_flags, "--password-stdin"],
        input=PASSWORD,
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert added.returncode == 0, added.stderr


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("dashboard-up")
    env = base_env(MINQING_DATA_DIR=str(tmp / "var"))
    add_staff(env, "leader", "supervisor")
    add_staff(env, "operator", "operator")
    port = free_port()
    process = MinqingProcess(
        ["up", "--port", str(port), "--data-dir", str(tmp / "var")], env, port, tmp / "up.log"
    )
    try:
        url = process.start().url
        numbers = []
        for n in range(CASES):
            payload = case_payload(f"村里自来水发黄第{n}天", location={"address": ADDRESS})
            response = httpx.post(f"{url}/api/v1/cases", json=payload, timeout=30)
            assert response.status_code == 201, response.text
            numbers.append(str(response.json()["tracking_no"]))
        yield Site(url, tuple(numbers))
    finally:
        process.ensure_stopped()


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as browser:
        yield browser


@pytest.fixture
def browser(driver: WebDriver) -> WebDriver:
    """The browser at its own size, with no cookies from an earlier test."""
    driver.delete_all_cookies()
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return driver


def sign_in(driver: WebDriver, site: Site, username: str) -> None:
    """Open the dashboard signed out and sign in on the page it sends us to."""
    driver.get(f"{site.url}/reports")
    WebDriverWait(driver, 15).until(lambda d: "/staff/login" in d.current_url)
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(driver, 15).until(lambda d: d.current_url.split("?")[0].endswith("/reports"))


def screenshot(driver: WebDriver, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("MINQING_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    assert full_page_screenshot(driver, folder / f"{name}.png").read_bytes().startswith(b"\x89PNG")


def test_a_supervisor_signs_in_and_sees_this_months_figures_charts_and_hot_spot(
    browser: WebDriver, site: Site, tmp_path: Path
) -> None:
    sign_in(browser, site, "leader")
    assert browser.find_element(By.TAG_NAME, "h1").text == "领导看板"
    # The events reach reporting over the bus: reload until they have all been counted, and
    # routing has dispatched them by the catalogue (no department has signed for one yet).
    refresh_until(browser, "#received .value", str(CASES))
    refresh_until(browser, "#response-rate .value", "0.0%")
    screenshot(browser, "reports-zh", tmp_path)
    assert text_of(browser, "#received .name") == "受理量"
    assert text_of(browser, "#resolved .value") == "0"
    assert text_of(browser, "#backlog .value") == str(CASES)
    assert text_of(browser, "#resolution-rate .value") == "0.0%"
    # Nothing rated or resolved yet: those rates are unknown, not zero.
    assert text_of(browser, "#satisfaction-rate .value") == "—"
    assert text_of(browser, "#on-time-rate .value") == "—"

    (web,) = browser.find_elements(By.CSS_SELECTOR, "#by-channel g.bar")
    assert web.get_attribute("data-value") == str(CASES)
    assert web.find_element(By.CSS_SELECTOR, "text.label").text == "网站"
    # Bars have a width the browser drew: the chart is real SVG, not an empty box.
    assert web.find_element(By.TAG_NAME, "rect").rect["width"] > 50
    departments = browser.find_elements(By.CSS_SELECTOR, "#by-department g.bar")
    assert sum(int(bar.get_attribute("data-value") or 0) for bar in departments) == CASES
    assert all(bar.find_element(By.CSS_SELECTOR, "text.label").text for bar in departments)

    days = browser.find_elements(By.CSS_SELECTOR, "#per-day circle.day")
    assert days
    assert sum(int(day.get_attribute("data-value") or 0) for day in days) == CASES
    assert browser.find_element(By.CSS_SELECTOR, "#per-day polyline").get_attribute("points")

    (spot,) = browser.find_elements(By.CSS_SELECTOR, "#hot-spots tr.hot-spot")
    cells = [cell.text for cell in spot.find_elements(By.TAG_NAME, "td")]
    assert cells[:4] == ["未分类", "越溪乡王家村", "投诉", f"{CASES} 上升"]
    assert cells[5].split(", ") == list(site.tracking_numbers)
    assert "12号" not in browser.page_source
    assert horizontal_overflow(browser) == 0, "the dashboard scrolls sideways"

    browser.find_element(By.LINK_TEXT, "English").click()
    WebDriverWait(browser, 15).until(
        lambda d: d.find_element(By.TAG_NAME, "h1").text == "Leaders' dashboard"
    )
    assert text_of(browser, "#received .name") == "Received"
    assert text_of(browser, "#received .value") == str(CASES)
    screenshot(browser, "reports-en", tmp_path)

    # A leader on a phone reads the same page without scrolling sideways.
    phone_sized(browser)
    browser.refresh()
    assert horizontal_overflow(browser) == 0, "the dashboard scrolls sideways on a phone"
    screenshot(browser, "reports-phone", tmp_path)


def test_a_period_is_chosen_on_the_page_and_a_backwards_one_is_refused(
    browser: WebDriver, site: Site
) -> None:
    sign_in(browser, site, "leader")
    browser.get(f"{site.url}/reports?from=2026-01-01&to=2026-01-31")
    assert text_of(browser, "#received .value") == "0"
    assert browser.find_element(By.ID, "from").get_attribute("value") == "2026-01-01"
    assert "本期未发现热点问题" in text_of(browser, "#hot-spots")
    browser.get(f"{site.url}/reports?from=2026-01-31&to=2026-01-01")
    assert text_of(browser, "[role=alert]") == "不能早于开始日期"


def test_staff_who_do_not_supervise_are_not_shown_the_figures(
    browser: WebDriver, site: Site
) -> None:
    browser.get(f"{site.url}/reports")
    WebDriverWait(browser, 15).until(lambda d: "/staff/login" in d.current_url)
    browser.find_element(By.ID, "username").send_keys("operator")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda d: d.current_url.split("?")[0].endswith("/reports"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "无权访问"
    assert not browser.find_elements(By.ID, "figures")
