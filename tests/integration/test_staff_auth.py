"""Staff sign in with routing's accounts; intake's staff routes admit only the roles they need."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.staffing import PASSWORD, Site, running_site
from tests.support import MINQING, REPO, base_env

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(("intake", "routing"), tmp_path_factory.mktemp("auth")) as site:
        site.add_staff("op.wang", "operator", name="王丽")
        site.add_staff("h.zhang", "handler", name="张强", department="edu", unit="县教育局")
        yield site


def token_request(site: Site, username: str, password: str, **extra: str) -> httpx.Response:
    form = {"grant_type": "password", "username": username, "password": password, **extra}
    return httpx.post(f"{site.url('routing')}/api/v1/auth/token", data=form, timeout=30)


def test_a_good_password_gets_a_bearer_token_that_says_who_and_which_roles(site: Site) -> None:
    response = token_request(site, "OP.Wang", PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 8 * 3600
    assert response.headers["cache-control"] == "no-store"
    me = httpx.get(
        f"{site.url('routing')}/api/v1/auth/me",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert me.json()["name"] == "王丽"
    assert me.json()["roles"] == ["operator"]
    assert me.json()["unit"] == "12345 热线中心"


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(site: Site) -> None:
    wrong = token_request(site, "op.wang", "not-the-password")
    unknown = token_request(site, "nobody.here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"] == "invalid_grant"


def test_other_grant_types_and_missing_fields_are_oauth2_errors(site: Site) -> None:
    assert token_request(site, "op.wang", PASSWORD, grant_type="client_credentials").json() == {
        "error": "unsupported_grant_type",
        "error_description": "grant_type must be 'password'",
    }
    missing = token_request(site, "op.wang", "")
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"


def test_a_disabled_account_cannot_sign_in(site: Site) -> None:
    site.add_staff("op.left", "operator")
    assert token_request(site, "op.left", PASSWORD).status_code == 200
    result = run_staff(site, "disable", "op.left")
    assert result.returncode == 0, result.stderr
    refused = token_request(site, "op.left", PASSWORD)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_grant"


def test_repeated_failures_for_a_username_are_throttled_even_with_the_right_password(
    site: Site,
) -> None:
    site.add_staff("op.target", "operator")
    for _ in range(5):
        assert token_request(site, "op.target", "guess-guess").status_code == 401
    refused = token_request(site, "op.target", PASSWORD)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    # Another username from the same address is still heard.
    assert token_request(site, "op.wang", PASSWORD).status_code == 200


def test_staff_routes_refuse_without_a_token_and_with_the_wrong_role(site: Site) -> None:
    call = {"call_id": "auth-1", "summary": "路灯坏了", "kind": "complaint"}
    intake = site.url("intake")
    anonymous = httpx.post(f"{intake}/api/v1/hotline/calls", json=call)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    forged = httpx.post(
        f"{intake}/api/v1/hotline/calls", json=call, headers={"Authorization": "Bearer x.y.z"}
    )
    assert forged.status_code == 401
    with site.client("intake", "h.zhang") as handler:
        assert handler.post("/api/v1/hotline/calls", json=call).status_code == 403
        assert handler.get("/api/v1/hotline/callbacks").status_code == 403
        assert handler.get("/api/v1/visits").status_code == 403
    with site.client("intake", "op.wang") as operator:
        entry = {"question": "怎么办社保卡", "answer": "带身份证到社保大厅"}
        assert operator.post("/api/v1/knowledge", json=entry).status_code == 403
        assert operator.get("/api/v1/hotline/callbacks").status_code == 200


def test_the_api_documentation_offers_the_password_flow(site: Site) -> None:
    schema = httpx.get(f"{site.url('intake')}/openapi.json").json()
    [scheme] = schema["components"]["securitySchemes"].values()
    assert scheme["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert schema["paths"]["/api/v1/hotline/calls"]["post"]["security"]


def run_staff(
    site: Site, *args: str, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = base_env(
        MINQING_BROKER_URL=site.amqp_url,
        MINQING_DATABASE_URL=site.database_url,
        MINQING_DATA_DIR=str(site.sms_path.parent / "cli"),
    )
    return subprocess.run(
        [*MINQING, "staff", *args],
        input=password,
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_account_added_with_the_command_can_sign_in(site: Site) -> None:
    added = run_staff(
        site,
        "add",
        "li.visits",
        "--name",
        "李明",
        "--role",
        "operator",
        "--role",
        "supervisor",
        "--unit",
        "越溪乡人民政府",
        password="a-long-password-1\n",
    )
    assert added.returncode == 0, added.stderr
    listed = run_staff(site, "list")
    assert "li.visits\t李明\toperator supervisor\t-\t越溪乡人民政府\tyes" in listed.stdout
    response = token_request(site, "li.visits", "a-long-password-1")
    assert response.status_code == 200, response.text
    again = run_staff(
        site,
        "add",
        "li.visits",
        "--name",
        "x",
        "--role",
        "operator",
        password="a-long-password-1\n",
    )
    assert again.returncode == 2
    assert "taken" in again.stderr
    short = run_staff(site, "add", "x.y", "--name", "x", "--role", "operator", password="short\n")
    assert short.returncode == 2
    assert "password" in short.stderr


def test_the_sign_in_page_sets_a_strict_http_only_cookie_that_opens_the_staff_pages(
    site: Site,
) -> None:
    routing, intake = site.url("routing"), site.url("intake")
    page = httpx.get(f"{routing}/staff/login", params={"next": "/staff/visits"})
    assert page.status_code == 200
    assert 'name="password"' in page.text
    bad = httpx.post(
        f"{routing}/staff/login", data={"username": "op.wang", "password": "wrong-password"}
    )
    assert bad.status_code == 401
    assert "用户名或密码不正确" in bad.text
    good = httpx.post(
        f"{routing}/staff/login",
        data={"username": "op.wang", "password": PASSWORD, "next": "/staff/visits"},
    )
    assert good.status_code == 303
    assert good.headers["location"] == "/staff/visits"
    cookie = good.headers["set-cookie"]
    assert cookie.startswith("minqing_staff=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    token = good.cookies["minqing_staff"]
    # Elsewhere than this site: ignored.
    away = httpx.post(
        f"{routing}/staff/login",
        data={"username": "op.wang", "password": PASSWORD, "next": "//evil.example/"},
    )
    assert away.headers["location"] == "/staff/hotline"

    signed_in = httpx.get(f"{intake}/staff/hotline", cookies={"minqing_staff": token})
    assert signed_in.status_code == 200
    assert "王丽" in signed_in.text
    anonymous = httpx.get(f"{intake}/staff/hotline")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/staff/login?next=/staff/hotline"
    handler_token = site.token("h.zhang")
    refused = httpx.get(f"{intake}/staff/hotline", cookies={"minqing_staff": handler_token})
    assert refused.status_code == 403

    out = httpx.post(f"{routing}/staff/logout", cookies={"minqing_staff": token})
    assert out.status_code == 303
    assert (
        'minqing_staff=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    )
