"""The portal's pages over HTTP (in-process, embedded database): what a browser gets and sends."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from services import intake
from services.intake.handlers import record_resolution
from services.intake.models import Attachment, Case, CatalogueCategory, Rating
from services.kernel.clock import utcnow
from services.kernel.config import load_settings
from services.kernel.events.contracts import CaseResolved
from services.kernel.migrations import upgrade
from services.kernel.outbox import outbox
from services.kernel.processes import build_app
from services.kernel.runtime import ServiceRuntime

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 512


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[ServiceRuntime]:
    settings = load_settings(
        {
            "MINQING_DATA_DIR": str(tmp_path),
            "MINQING_RATE_LIMIT_PER_IP": "off",
            "MINQING_RATE_LIMIT_PER_PHONE": "off",
        }
    )
    upgrade("intake", intake.SERVICE.migrations, settings.database_url("intake"))
    runtime = ServiceRuntime(intake.SERVICE, settings)
    with runtime.work() as work:
        work.session.add(
            CatalogueCategory(
                category="教育文体",
                position=0,
                department_code="edu",
                department_name="县教育局",
                department_name_en="County Education Bureau",
                published_at=utcnow(),
            )
        )
    yield runtime
    runtime.database.dispose()


@pytest.fixture
def browser(runtime: ServiceRuntime) -> TestClient:
    """A client that keeps cookies and does not follow redirects, so each step can be seen."""
    return TestClient(build_app([runtime]), follow_redirects=False)


def hidden(page: httpx.Response, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', page.text)
    assert found, f"no hidden field {name}"
    return found.group(1)


def form_fields(**changes: str) -> dict[str, str]:
    return {
        "kind": "complaint",
        "category": "教育文体",
        "description": "学校门口的校车每天超载",
        "location.address": "越溪乡王家村小学",
        "location.lat": "29.301",
        "location.lon": "120.075",
        "contact.name": "张三",
        "contact.phone": "13812345678",
        **changes,
    }


def submit(
    browser: TestClient,
    fields: dict[str, str],
    files: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
    path: str = "/",
    page: httpx.Response | None = None,
) -> httpx.Response:
    page = page or browser.get(path)
    data = {
        "csrf_token": hidden(page, "csrf_token"),
        "idempotency_key": hidden(page, "idempotency_key"),
        **fields,
    }
    return browser.post(
        path,
        data=data,
        files=[("files", (name, content)) for name, content in files] or [("files", ("", b""))],
    )


def counts(runtime: ServiceRuntime) -> tuple[int, int]:
    with runtime.database.session() as session:
        cases = session.scalar(select(func.count()).select_from(Case)) or 0
        events = session.scalar(select(func.count()).select_from(outbox)) or 0
    return cases, events


def receipt_of(browser: TestClient) -> dict[str, str]:
    page = browser.get("/confirmation")
    assert page.status_code == 200
    number = re.search(r'id="tracking-no">([^<]+)<', page.text)
    code = re.search(r'id="access-code">([^<]+)<', page.text)
    assert number
    assert code
    return {"tracking_no": number.group(1), "access_code": code.group(1)}


def look_up(browser: TestClient, tracking_no: str, access_code: str) -> httpx.Response:
    page = browser.get("/track")
    return browser.post(
        "/track",
        data={
            "csrf_token": hidden(page, "csrf_token"),
            "tracking_no": tracking_no,
            "access_code": access_code,
        },
    )


def resolve(runtime: ServiceRuntime, tracking_no: str, reply: str) -> None:
    with runtime.work() as work:
        case = work.session.scalars(select(Case).where(Case.tracking_no == tracking_no)).one()
        event = CaseResolved(
            case_id=case.id,
            tracking_no=tracking_no,
            work_order_id=uuid.uuid4(),
            department_code="edu",
            department_name="县教育局",
            reply=reply,
            resolved_at=utcnow(),
        )
        record_resolution(event, work)


def test_the_form_is_chinese_private_and_offers_the_catalogue(browser: TestClient) -> None:
    page = browser.get("/")
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    assert "提交诉求" in page.text
    assert '<option value="教育文体">教育文体</option>' in page.text
    assert 'value="tip-off"' not in page.text, "a tip-off has its own page"
    assert 'href="/tip-off"' in page.text
    assert "最多 5 个文件，每个不超过 5 MB，合计不超过 20 MB" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    cookie = page.headers["set-cookie"]
    assert "minqing_csrf=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    english = browser.get("/?lang=en")
    assert "Submit a request" in english.text
    assert "教育文体 (County Education Bureau)" in english.text


def test_a_submission_gives_a_receipt_and_a_routed_case_with_its_files(
    browser: TestClient, runtime: ServiceRuntime
) -> None:
    answer = submit(browser, form_fields(), [("现场.png", PNG)])
    assert answer.status_code == 303
    assert answer.headers["location"] == "/confirmation"
    receipt = receipt_of(browser)
    assert re.fullmatch(r"\d{8}-\d{6}", receipt["tracking_no"])
    assert len(receipt["access_code"]) == 6
    confirmation = browser.get("/confirmation")
    assert confirmation.headers["cache-control"] == "no-store"
    assert f'href="/track/{receipt["tracking_no"]}"' in confirmation.text
    with runtime.database.session() as session:
        case = session.scalars(select(Case)).one()
        assert (case.channel, case.kind, case.category) == ("web", "complaint", "教育文体")
        assert (case.lat, case.lon, case.contact_phone) == (29.301, 120.075, "13812345678")
        assert session.scalars(select(Attachment.filename)).all() == ["现场.png"]
    # The submission signed the browser in to its case.
    case_page = browser.get(f"/track/{receipt['tracking_no']}")
    assert case_page.status_code == 200
    assert "现场.png" in case_page.text


def test_a_double_submission_makes_one_case(browser: TestClient, runtime: ServiceRuntime) -> None:
    page = browser.get("/")
    first = submit(browser, form_fields(), page=page)
    number = receipt_of(browser)["tracking_no"]
    second = submit(browser, form_fields(), page=page)
    assert first.status_code == second.status_code == 303
    assert receipt_of(browser)["tracking_no"] == number
    assert counts(runtime) == (1, 1)
    changed = submit(browser, form_fields(description="另一件事"), page=page)
    assert changed.status_code == 409
    assert "该表单已提交过且内容不同" in changed.text
    assert counts(runtime) == (1, 1)


def test_errors_come_back_beside_their_fields_with_the_input_kept(
    browser: TestClient, runtime: ServiceRuntime
) -> None:
    answer = submit(
        browser,
        form_fields(description="", **{"contact.phone": "12345", "location.lon": ""}),
        [("virus.exe", b"MZ")],
    )
    assert answer.status_code == 422
    page = answer.text
    assert '<p class="error" id="description-error">必须填写</p>' in page
    assert "请填写中国大陆手机号码" in page
    assert "经度和纬度须同时填写或同时留空" in page
    assert "virus.exe：不接受这种类型的文件" in page
    assert 'value="12345"' in page, "the citizen's input is kept"
    assert 'value="越溪乡王家村小学"' in page
    assert "详细描述：必须填写" in page, "the summary names the field"
    assert counts(runtime) == (0, 0)
    browser.get("/?lang=en")
    english = submit(browser, form_fields(**{"contact.phone": "", "contact.email": "nope"}))
    assert english.status_code == 422
    assert "must be an email address like name@example.com" in english.text


def test_a_form_without_its_token_is_refused_and_kept(
    browser: TestClient, runtime: ServiceRuntime
) -> None:
    page = browser.get("/")
    forged = browser.post(
        "/", data={**form_fields(), "csrf_token": "0" * 64, "idempotency_key": "k"}
    )
    assert forged.status_code == 403
    assert "页面已过期，内容未提交" in forged.text
    assert "学校门口的校车每天超载" in forged.text
    other_browser = TestClient(browser.app, follow_redirects=False)
    stolen = other_browser.post(
        "/", data={**form_fields(), "csrf_token": hidden(page, "csrf_token")}
    )
    assert stolen.status_code == 403
    assert counts(runtime) == (0, 0)


def test_a_tip_off_seals_its_reporter(browser: TestClient, runtime: ServiceRuntime) -> None:
    page = browser.get("/tip-off")
    assert "您的身份受到保护" in page.text
    answer = submit(
        browser, form_fields(kind="complaint", description="村干部收受好处"), path="/tip-off"
    )
    assert answer.status_code == 303
    assert "您的举报已受理" in browser.get("/confirmation").text
    with runtime.database.session() as session:
        case = session.scalars(select(Case)).one()
        assert case.kind == "tip-off"
        assert case.contact_phone is None
        assert case.contact_name is None
        assert case.sealed_contact


def test_a_tip_off_may_be_sent_without_any_contact(
    browser: TestClient, runtime: ServiceRuntime
) -> None:
    anonymous = form_fields(description="有人在河道夜间偷采砂石", **{"contact.name": ""})
    del anonymous["contact.phone"]
    answer = submit(browser, anonymous, path="/tip-off")
    assert answer.status_code == 303
    assert receipt_of(browser)["access_code"]
    with runtime.database.session() as session:
        assert session.scalars(select(Case.kind)).one() == "tip-off"


def test_a_wrong_code_and_an_unknown_number_look_alike_and_guessing_is_stopped(
    browser: TestClient,
) -> None:
    submit(browser, form_fields())
    receipt = receipt_of(browser)
    stranger = TestClient(browser.app, follow_redirects=False)
    wrong = look_up(stranger, receipt["tracking_no"], "ZZZZZZ")
    unknown = look_up(stranger, "20000101-000001", "ZZZZZZ")
    assert wrong.status_code == unknown.status_code == 404
    message = "编号或查询码不正确，请核对后重试"
    assert message in wrong.text
    assert message in unknown.text
    assert "minqing_case" not in wrong.headers.get("set-cookie", "")
    for _ in range(28):
        look_up(stranger, receipt["tracking_no"], "ZZZZZZ")
    refused = look_up(stranger, receipt["tracking_no"], receipt["access_code"])
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0


def test_a_lookup_signs_in_to_that_case_only(browser: TestClient) -> None:
    submit(browser, form_fields())
    mine = receipt_of(browser)
    submit(browser, form_fields(description="另一件事"))
    other = receipt_of(browser)
    citizen = TestClient(browser.app, follow_redirects=False)
    assert citizen.get(f"/track/{mine['tracking_no']}").headers["location"] == (
        f"/track?no={mine['tracking_no']}"
    )
    found = look_up(citizen, mine["tracking_no"], mine["access_code"].lower())
    assert found.status_code == 303
    assert found.headers["location"] == f"/track/{mine['tracking_no']}"
    cookie = found.headers["set-cookie"]
    assert f"Path=/track/{mine['tracking_no']}" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Max-Age=1800" in cookie
    case_page = citizen.get(f"/track/{mine['tracking_no']}")
    assert case_page.status_code == 200
    assert "已受理" in case_page.text
    assert case_page.headers["cache-control"] == "no-store"
    # The session is that case's alone, whatever the browser sends.
    forged = citizen.get(
        f"/track/{other['tracking_no']}", cookies={"minqing_case": citizen.cookies["minqing_case"]}
    )
    assert forged.status_code == 303
    tampered = citizen.get(
        f"/track/{mine['tracking_no']}", cookies={"minqing_case": "gAAAAA" + "x" * 100}
    )
    assert tampered.status_code == 303


def test_material_and_a_rating_through_the_case_page(
    browser: TestClient, runtime: ServiceRuntime
) -> None:
    submit(browser, form_fields())
    number = receipt_of(browser)["tracking_no"]
    page = browser.get(f"/track/{number}")
    assert 'name="rating"' not in page.text, "no rating before resolution"
    csrf = hidden(page, "csrf_token")
    empty = browser.post(f"/track/{number}/material", data={"csrf_token": csrf, "text": " "})
    assert empty.status_code == 422
    assert "请填写补充内容或上传文件" in empty.text
    added = browser.post(
        f"/track/{number}/material",
        data={"csrf_token": csrf, "text": "补充一张照片"},
        files=[("files", ("校车.png", PNG))],
    )
    assert added.status_code == 303
    page = browser.get(added.headers["location"])
    assert "补充材料已收到" in page.text
    assert "补充一张照片" in page.text
    assert "校车.png" in page.text

    resolve(runtime, number, "已责令校车运营方整改，并安排每日检查。")
    page = browser.get(f"/track/{number}")
    assert "已办结" in page.text
    assert "已责令校车运营方整改" in page.text
    assert f'action="/track/{number}/material"' not in page.text, "closed to more material"
    late = browser.post(f"/track/{number}/material", data={"csrf_token": csrf, "text": "还有"})
    assert late.status_code == 409
    assert "该诉求已办结，不能再补充材料" in late.text
    unchosen = browser.post(f"/track/{number}/rating", data={"csrf_token": csrf})
    assert unchosen.status_code == 422
    assert '<p class="error" id="rating-error">必须填写</p>' in unchosen.text
    rated = browser.post(
        f"/track/{number}/rating",
        data={"csrf_token": csrf, "rating": "satisfied", "comment": "很快就解决了"},
    )
    assert rated.status_code == 303
    page = browser.get(rated.headers["location"])
    assert "感谢您的评价" in page.text
    assert "满意" in page.text
    assert "很快就解决了" in page.text
    again = browser.post(
        f"/track/{number}/rating", data={"csrf_token": csrf, "rating": "dissatisfied"}
    )
    assert again.status_code == 409
    assert "该诉求已经评价过" in again.text
    with runtime.database.session() as session:
        assert session.scalars(select(Rating.rating)).all() == ["satisfied"]


def test_leaving_forgets_the_case_on_this_browser(browser: TestClient) -> None:
    submit(browser, form_fields())
    number = receipt_of(browser)["tracking_no"]
    assert browser.get(f"/track/{number}").status_code == 200
    left = browser.post(f"/track/{number}/leave")
    assert left.status_code == 303
    assert browser.get(f"/track/{number}").status_code == 303


def test_the_confirmation_expires_with_its_cookie(browser: TestClient) -> None:
    expired = browser.get("/confirmation")
    assert expired.status_code == 404
    assert "此页面已过期" in expired.text


def test_uploads_over_the_files_limit_are_refused_whole(
    browser: TestClient, runtime: ServiceRuntime
) -> None:
    big = b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024 - 3)
    files: list[tuple[str, Any]] = [(f"{i}.jpg", big) for i in range(5)]
    answer = submit(browser, form_fields(), files)
    assert answer.status_code == 413
    assert counts(runtime) == (0, 0)
