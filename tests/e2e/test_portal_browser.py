"""The citizens' portal in a real headless Chromium, against real Minqing processes.

The embedded `minqing up` serves the form, the receipt and the tracking page; resolving a case
needs an event from outside the process, so that story runs on `minqing serve intake` and
`minqing serve routing` with RabbitMQ and PostgreSQL. Screenshots go to MINQING_SCREENSHOT_DIR
when it is set (to look at them), else to the test's temporary folder.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser import (
    PHONE,
    chromium,
    full_page_screenshot,
    horizontal_overflow,
    phone_sized,
    refresh_until,
    text_of,
)
from tests.support import (
    MinqingProcess,
    base_env,
    case_id_of,
    free_port,
    postgres_databases,
    publish_envelopes,
    rabbitmq_vhost,
    resolved,
    running_services,
)

pytestmark = pytest.mark.e2e

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 4096
Shot = Callable[[WebDriver, str], Path]


@dataclass(frozen=True)
class Served:
    url: str
    amqp_url: str
    database_url: str


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("portal-up")
    port = free_port()
    process = MinqingProcess(
        ["up", "--port", str(port), "--data-dir", str(tmp / "var")],
        base_env(),
        port,
        tmp / "minqing.log",
    )
    try:
        yield process.start().url
    finally:
        process.ensure_stopped()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("portal-serve")
    with (
        postgres_databases() as database_url,
        rabbitmq_vhost() as amqp_url,
        running_services(["intake", "routing"], database_url, amqp_url, tmp) as cluster,
    ):
        yield Served(cluster.url("intake"), amqp_url, database_url)


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as browser:
        yield browser


@pytest.fixture
def phone(driver: WebDriver) -> WebDriver:
    """The browser as a 375×740 phone, with no cookies from an earlier test."""
    driver.delete_all_cookies()
    phone_sized(driver)
    return driver


@pytest.fixture
def shot(tmp_path: Path) -> Shot:
    folder = Path(os.environ.get("MINQING_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def take(driver: WebDriver, name: str) -> Path:
        path = full_page_screenshot(driver, folder / f"{name}.png")
        assert path.read_bytes().startswith(b"\x89PNG")
        return path

    return take


def wait_for_path(driver: WebDriver, path: str) -> None:
    WebDriverWait(driver, 15).until(lambda d: d.current_url.split("?")[0].endswith(path))


def fits_the_phone(driver: WebDriver) -> None:
    assert driver.execute_script("return window.innerWidth") == PHONE[0]
    assert horizontal_overflow(driver) == 0, f"{driver.current_url} scrolls sideways"


def fill_the_form(driver: WebDriver, attachment: Path) -> None:
    Select(driver.find_element(By.ID, "kind")).select_by_value("complaint")
    Select(driver.find_element(By.ID, "category")).select_by_visible_text("教育文体")
    driver.find_element(By.ID, "description").send_keys("学校门口的校车每天超载，孩子们很危险")
    driver.find_element(By.ID, "location-address").send_keys("越溪乡王家村小学门口")
    driver.find_element(By.ID, "contact-name").send_keys("王女士")
    driver.find_element(By.ID, "contact-phone").send_keys("13812345678")
    driver.find_element(By.ID, "files").send_keys(str(attachment))


def submit(driver: WebDriver, form: str = "form[data-once]") -> None:
    driver.find_element(By.CSS_SELECTOR, f"{form} button[type=submit]").click()


def timeline(driver: WebDriver) -> list[str]:
    return [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#timeline li")]


def messages(driver: WebDriver) -> list[str]:
    return [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#messages li")]


def test_a_citizen_submits_on_a_phone_and_watches_the_case_get_dispatched(
    embedded: str, phone: WebDriver, shot: Shot, tmp_path: Path
) -> None:
    attachment = tmp_path / "校车照片.png"
    attachment.write_bytes(PNG)
    phone.get(f"{embedded}/")
    fits_the_phone(phone)
    shot(phone, "portal-form-phone")
    fill_the_form(phone, attachment)
    submit(phone)

    wait_for_path(phone, "/confirmation")
    fits_the_phone(phone)
    shot(phone, "portal-confirmation-phone")
    number, code = text_of(phone, "#tracking-no"), text_of(phone, "#access-code")
    assert len(code) == 6
    assert "年" in text_of(phone, "#promised-date")

    # As on another day: no cookies, only the number and the code.
    phone.delete_all_cookies()
    phone.get(f"{embedded}/track")
    fits_the_phone(phone)
    phone.find_element(By.ID, "tracking_no").send_keys(number)
    phone.find_element(By.ID, "access_code").send_keys(code)
    submit(phone)
    wait_for_path(phone, f"/track/{number}")
    assert "已受理" in timeline(phone)[0]

    refresh_until(phone, "#case-status", "已派单")
    assert "县教育局" in text_of(phone, "#department")
    assert [entry.split()[-1] for entry in timeline(phone)] == ["已受理", "县教育局"]
    assert "校车照片.png" in text_of(phone, "#files-list")
    # The texts notify sent the citizen, each with how far it got (the file gateway: sent).
    refresh_until(phone, "#messages", "派单通知")
    assert [entry.split(" · ", 1)[0].split()[-1] for entry in messages(phone)] == [
        "受理通知",
        "派单通知",
    ]
    assert all(entry.endswith("短信 · 已发送") for entry in messages(phone))
    fits_the_phone(phone)
    shot(phone, "portal-case-phone")


def test_a_missing_field_is_named_beside_it_in_the_pages_language(
    embedded: str, phone: WebDriver, shot: Shot
) -> None:
    phone.get(f"{embedded}/")
    Select(phone.find_element(By.ID, "kind")).select_by_value("help")
    phone.find_element(By.ID, "contact-phone").send_keys("13812345678")
    submit(phone)
    WebDriverWait(phone, 15).until(lambda d: d.find_elements(By.ID, "description-error"))
    assert text_of(phone, "#description-error") == "必须填写"
    assert phone.find_element(By.ID, "description").get_attribute("aria-invalid") == "true"
    assert phone.find_element(By.ID, "contact-phone").get_attribute("value") == "13812345678"
    assert "详细描述：必须填写" in text_of(phone, "#error-summary")
    fits_the_phone(phone)
    shot(phone, "portal-form-errors-phone")

    phone.find_element(By.LINK_TEXT, "English").click()
    WebDriverWait(phone, 15).until(lambda d: "Submit a request" in d.title)
    assert phone.find_element(By.CSS_SELECTOR, "label[for=description]").text.startswith(
        "Description"
    )
    assert phone.find_element(By.CSS_SELECTOR, "label[for=contact-phone]").text == "Mobile number"
    Select(phone.find_element(By.ID, "kind")).select_by_value("help")
    phone.find_element(By.ID, "contact-phone").send_keys("12345")
    submit(phone)
    WebDriverWait(phone, 15).until(lambda d: d.find_elements(By.ID, "contact-phone-error"))
    assert text_of(phone, "#description-error") == "Field required"
    assert "mainland China mobile number" in text_of(phone, "#contact-phone-error")
    fits_the_phone(phone)
    phone.get(f"{embedded}/tip-off")
    assert "identity is protected" in text_of(phone, ".sealed")
    fits_the_phone(phone)
    phone.find_element(By.LINK_TEXT, "中文").click()
    WebDriverWait(phone, 15).until(lambda d: "匿名举报" in d.title)


def test_after_the_department_resolves_it_the_citizen_rates_the_result(
    served: Served, phone: WebDriver, shot: Shot, tmp_path: Path
) -> None:
    attachment = tmp_path / "photo.png"
    attachment.write_bytes(PNG)
    phone.get(f"{served.url}/")
    fill_the_form(phone, attachment)
    submit(phone)
    wait_for_path(phone, "/confirmation")
    number = text_of(phone, "#tracking-no")
    phone.find_element(By.CSS_SELECTOR, "a.button[href^='/track/']").click()
    wait_for_path(phone, f"/track/{number}")
    refresh_until(phone, "#case-status", "已派单")
    assert not phone.find_elements(By.ID, "rate"), "nothing to rate before resolution"

    phone.find_element(By.ID, "text").send_keys("今天早上又看到超载，补充一张照片")
    phone.find_element(By.ID, "material-files").send_keys(str(attachment))
    submit(phone, "#material form")
    WebDriverWait(phone, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "p.notice"))
    assert text_of(phone, "p.notice") == "补充材料已收到，已转交承办部门。"
    assert "补充材料" in timeline(phone)[-1]
    assert "sent=" not in phone.current_url, "a refresh would not repeat the notice"

    reply = "经核查，校车超载属实，已责令运营方整改，并安排每日上学时段专人检查。"
    case_id = case_id_of(served.database_url, number)
    publish_envelopes(served.amqp_url, [resolved(case_id, number, reply)])
    refresh_until(phone, "#case-status", "已办结")
    assert text_of(phone, "#reply") == reply
    assert not phone.find_elements(By.ID, "material"), "a resolved case takes no more material"
    fits_the_phone(phone)
    shot(phone, "portal-case-resolved-phone")

    phone.find_element(By.CSS_SELECTOR, "#rate input[value=basically-satisfied]").click()
    phone.find_element(By.ID, "comment").send_keys("处理及时，希望长期坚持检查")
    submit(phone, "#rate form")
    WebDriverWait(phone, 15).until(lambda d: d.find_elements(By.ID, "rated"))
    assert text_of(phone, "p.notice") == "感谢您的评价。"
    assert "基本满意" in text_of(phone, "#rated")
    assert "已评价" in timeline(phone)[-1]
    assert not phone.find_elements(By.ID, "rate")
    fits_the_phone(phone)
