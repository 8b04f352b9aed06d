"""Server-rendered pages every service shares: templates, the page's language, the static files.

Pages are Chinese by default; `?lang=en` (remembered in a cookie) or an `Accept-Language` that
ranks English higher switches them to English. Templates say each text in both languages,
`{{ t("提交", "Submit") }}`, so a page can never show a half-translated mix.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from services.kernel.language import Language, preferred_language

STATIC_DIR = Path(__file__).with_name("static")
_KERNEL_TEMPLATES = Path(__file__).with_name("templates")
LANGUAGE_COOKIE = "minqing_lang"


def page_language(request: Request) -> Language:
    chosen = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if chosen in ("zh", "en"):
        return "en" if chosen == "en" else "zh"
    return preferred_language(request.headers.get("accept-language"))


class Pages:
    """A service's templates (its own folder first, then the shared layout)."""

    def __init__(self, templates_dir: Path) -> None:
        environment = Environment(
            loader=ChoiceLoader(
                [FileSystemLoader(templates_dir), FileSystemLoader(_KERNEL_TEMPLATES)]
            ),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._templates = Jinja2Templates(env=environment)

    def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        language = page_language(request)

        def t(zh: str, en: str) -> str:
            return en if language == "en" else zh

        response = self._templates.TemplateResponse(
            request,
            template,
            {"lang": language, "t": t, **(context or {})},
            status_code=status_code,
        )
        if request.query_params.get("lang") in ("zh", "en"):
            response.set_cookie(
                LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="lax", httponly=True
            )
        return response
