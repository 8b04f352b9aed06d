"""A real headless Chromium for tests: Debian's chromium and chromedriver, driven by Selenium.

Nothing is downloaded: the driver's path is given, so Selenium Manager stays out of it.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from tests.support import unavailable, wait_until

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
PHONE = (375, 740)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@contextmanager
def chromium(profile: Path, language: str = "zh-CN") -> Iterator[WebDriver]:
    """A fresh headless Chromium with its own profile, quit afterwards whatever happens."""
    if not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()):
        unavailable("Chromium and chromedriver are not installed (apt-get install chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--lang={language}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def phone_sized(driver: WebDriver, width: int = PHONE[0], height: int = PHONE[1]) -> None:
    """Lay pages out as a phone would (a headless window cannot be made this narrow)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True},
    )


def horizontal_overflow(driver: WebDriver) -> int:
    """How many CSS pixels the page is wider than the window: 0 means no sideways scrolling."""
    return int(
        driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


def full_page_screenshot(driver: WebDriver, path: Path) -> Path:
    """The whole page, top to bottom, as a PNG."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        },
    )
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def text_of(driver: WebDriver, css: str) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, css).text)


def refresh_until(driver: WebDriver, css: str, wanted: str, timeout: float = 20.0) -> str:
    """Reload the page until the element's text contains `wanted`, as a citizen would."""

    def shows() -> str | None:
        driver.refresh()
        found = driver.find_elements(By.CSS_SELECTOR, css)
        return found[0].text if found and wanted in found[0].text else None

    return str(wait_until(shows, timeout, interval=0.5))
