"""Open311 GeoReport v2 at `/open311/v2/`: discovery, services, and service requests in and out.

Every resource answers as `.json` or `.xml`; every error is the spec's `errors` document with
the spec's status: 400 for a bad request, 403 for a missing or wrong `api_key`, 404 for what does
not exist (an unknown `jurisdiction_id` included).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, cast

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import ColumnElement, Table, false, func, insert, or_, select
from sqlalchemy.orm import Session

from services.intake.categories import category_names
from services.intake.channels import open311_clients
from services.intake.channels.open311_format import (
    FORMATS,
    MEDIA_TYPES,
    Format,
    Value,
    errors_document,
    render,
)
from services.intake.channels.open311_mapping import (
    CLOSED_STATUSES,
    OTHER,
    TIP_OFF,
    CaseRecord,
    Form,
    Note,
    Refused,
    RequestQuery,
    accepted_notice,
    definition_document,
    discovery_document,
    first_value,
    read_post,
    read_query,
    request_document,
    service_code,
    services_document,
)
from services.intake.deps import IntakeWork, Limits
from services.intake.idempotency import MAX_KEY_LENGTH, IdempotencyKeyReused, accept_once
from services.intake.models import Case, CatalogueCategory, Open311Request, TimelineEntry
from services.intake.submissions import Submission
from services.kernel.clock import utcnow
from services.kernel.config import Settings
from services.kernel.http import SettingsDep
from services.kernel.language import InvalidValue, Language, preferred_language

router = APIRouter(prefix="/open311/v2", tags=["intake"])
# Built once, like intake's other per-submission statements (see submissions.py).
_INSERT_REQUEST = insert(cast(Table, Open311Request.__table__))

_NO_SUCH_REQUEST = InvalidValue(
    "service_request_id: no such service request", "service_request_id：没有这个诉求"
)


async def _form(request: Request) -> Form:
    """The POSTed form, every value of every field (a multivaluelist repeats its field)."""
    form = await request.form()
    return {key: [v for v in form.getlist(key) if isinstance(v, str)] for key in form}


PostedForm = Annotated[Form, Depends(_form)]


def _query(request: Request) -> Form:
    return {key: request.query_params.getlist(key) for key in request.query_params}


def _serve(
    request: Request,
    raw_format: str,
    jurisdiction: str | None,
    produce: Callable[[Format, Language], Response],
) -> Response:
    """Check the format and the jurisdiction, then answer, turning a refusal into spec errors."""
    language = preferred_language(request.headers.get("accept-language"))
    fmt: Format | None = next((f for f in FORMATS if f == raw_format), None)
    try:
        if fmt is None:
            raise Refused(
                404,
                InvalidValue(
                    f"no format {raw_format!r}: ask for .json or .xml",
                    f"没有 {raw_format!r} 格式：请用 .json 或 .xml",
                ),
            )
        settings: Settings = request.app.state.settings
        if jurisdiction is not None and jurisdiction != settings.open311_jurisdiction:
            raise Refused(
                404,
                InvalidValue(
                    f"jurisdiction_id: {jurisdiction!r} is not served here; "
                    f"this endpoint serves {settings.open311_jurisdiction!r}",
                    f"jurisdiction_id：本接口不服务 {jurisdiction!r}，"
                    f"只服务 {settings.open311_jurisdiction!r}",
                ),
            )
        return produce(fmt, language)
    except Refused as refused:
        return _errors(refused, fmt or "json", language)


def _respond(
    document: Value,
    root: str,
    fmt: Format,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return Response(
        render(document, root, fmt),
        status_code=status,
        media_type=MEDIA_TYPES[fmt],
        headers=dict(headers or {}),
    )


def _errors(
    refused: Refused, fmt: Format, language: Language, headers: Mapping[str, str] | None = None
) -> Response:
    document: Value = errors_document(refused.descriptions(language), refused.status)
    return _respond(document, "errors", fmt, refused.status, headers)


def _categories(session: Session) -> list[CatalogueCategory]:
    return list(session.scalars(select(CatalogueCategory).order_by(CatalogueCategory.position)))


def _category_of(names: Sequence[str], code: str) -> str | None:
    """The category a service code stands for; None for the service "other"."""
    if code == OTHER:
        return None
    for name in names:
        if service_code(name) == code:
            return name
    raise Refused(
        404,
        InvalidValue(
            f"service_code: no service {code!r}; GET services to see them",
            f"service_code：没有 {code!r} 这项服务，可用的服务见 services 列表",
        ),
    )


# --- discovery and services -----------------------------------------------------------------------


@router.get("/discovery.{fmt}")
def discovery(fmt: str, request: Request, work: IntakeWork) -> Response:
    """Where the endpoint is and what it speaks; its changeset moves with the catalogue."""

    def produce(fmt: Format, language: Language) -> Response:
        changeset = work.session.scalar(select(func.max(CatalogueCategory.published_at)))
        url = str(request.url_for("discovery", fmt=fmt)).rsplit("/", 1)[0]
        return _respond(discovery_document(url, changeset, language), "discovery", fmt)

    return _serve(request, fmt, request.query_params.get("jurisdiction_id") or None, produce)


@router.get("/services.{fmt}")
def list_services(fmt: str, request: Request, work: IntakeWork) -> Response:
    """One service per category of routing's catalogue, grouped by department."""

    def produce(fmt: Format, language: Language) -> Response:
        document = services_document(_categories(work.session), language)
        return _respond(document, "services", fmt)

    return _serve(request, fmt, request.query_params.get("jurisdiction_id") or None, produce)


@router.get("/services/{code}.{fmt}")
def service_definition(code: str, fmt: str, request: Request, work: IntakeWork) -> Response:
    """The attributes a service asks for."""

    def produce(fmt: Format, language: Language) -> Response:
        _category_of(category_names(work.session.get_bind().engine), code)
        return _respond(definition_document(code, language), "service_definition", fmt)

    return _serve(request, fmt, request.query_params.get("jurisdiction_id") or None, produce)


@router.get("/tokens/{token}.{fmt}")
def token(token: str, fmt: str, request: Request) -> Response:
    """Every service is realtime: a request's id comes back at once, so no token ever exists."""

    def produce(fmt: Format, language: Language) -> Response:
        raise Refused(
            404,
            InvalidValue(
                "token: no such token; this endpoint returns service_request_id at once",
                "token：没有这个令牌；本接口提交后直接返回 service_request_id",
            ),
        )

    return _serve(request, fmt, request.query_params.get("jurisdiction_id") or None, produce)


# --- service requests in --------------------------------------------------------------------------


@router.post("/requests.{fmt}")
def post_request(
    fmt: str,
    request: Request,
    form: PostedForm,
    work: IntakeWork,
    settings: SettingsDep,
    limits: Limits,
) -> Response:
    """A citizen's request from a client with an API key; answered with its tracking number.

    With an `Idempotency-Key` header, the same request sent again returns the first answer
    (`Idempotent-Replayed: true`) instead of making a second case.
    """

    def produce(fmt: Format, language: Language) -> Response:
        session = work.session
        # From memory or on a connection of their own: on SQLite the request's transaction
        # holds the write lock from its first statement, and the tracking number must be
        # taken before it.
        client_id = open311_clients.active_client(
            session.get_bind().engine, first_value(form, "api_key")
        )
        if client_id is None:
            raise Refused(
                403,
                InvalidValue(
                    "api_key: missing or not valid; ask the operators for a key",
                    "api_key：缺少或无效，请向系统管理员申请",
                ),
            )
        posted = read_post(form)
        address = request.client.host if request.client else None
        refusal = limits.check(address, posted.contact.phone)
        if refusal is not None:
            reason = InvalidValue(refusal.message("en"), refusal.message("zh"))
            return _errors(
                Refused(429, reason), fmt, language, {"Retry-After": str(refusal.retry_after)}
            )
        category = _category_of(category_names(session.get_bind().engine), posted.service_code)
        submission = Submission(
            channel="open311",
            kind=posted.kind,
            description=posted.description,
            category=category,
            location=posted.location,
            contact=posted.contact,
            scope_level=posted.scope_level,
        )
        try:
            receipt, replayed = accept_once(
                work, submission, settings.secret_key, _idempotency_key(request, client_id)
            )
        except IdempotencyKeyReused as reused:
            raise Refused(
                400, InvalidValue(f"Idempotency-Key: {reused.en}", f"Idempotency-Key：{reused.zh}")
            ) from None
        if not replayed:
            work.session.execute(
                _INSERT_REQUEST,
                {"case_id": receipt.case_id, "client_id": client_id, "media_url": posted.media_url},
            )
        answer: Value = [
            {
                "service_request_id": receipt.tracking_no,
                "service_notice": accepted_notice(
                    receipt.promised_date, language, by_sms=posted.contact.phone is not None
                ),
                "account_id": posted.account_id,
            }
        ]
        headers = {"Idempotent-Replayed": "true"} if replayed else None
        return _respond(answer, "service_requests", fmt, 200, headers)

    return _serve(request, fmt, first_value(form, "jurisdiction_id"), produce)


def _idempotency_key(request: Request, client_id: int) -> str | None:
    """The header's key, scoped to the client: two clients' keys never meet."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    scoped = f"{client_id}/{key}"
    if not key or len(scoped) > MAX_KEY_LENGTH:
        limit = MAX_KEY_LENGTH - len(scoped) + len(key)
        raise Refused(
            400,
            InvalidValue(
                f"Idempotency-Key: 1 to {limit} characters",
                f"Idempotency-Key：1 到 {limit} 个字符",
            ),
        )
    return scoped


# --- service requests out -------------------------------------------------------------------------


@router.get("/requests.{fmt}")
def list_requests(fmt: str, request: Request, work: IntakeWork) -> Response:
    """Service requests, newest first: by id, or by service, status and time, 90 days at most."""

    def produce(fmt: Format, language: Language) -> Response:
        query = read_query(_query(request), utcnow())
        records = _records(work.session, query)
        document: Value = [request_document(r, language, query.extensions) for r in records]
        return _respond(document, "service_requests", fmt)

    return _serve(request, fmt, request.query_params.get("jurisdiction_id") or None, produce)


@router.get("/requests/{service_request_id}.{fmt}")
def read_request(service_request_id: str, fmt: str, request: Request, work: IntakeWork) -> Response:
    """One service request by its id, the case's tracking number; a tip-off is never found."""

    def produce(fmt: Format, language: Language) -> Response:
        extensions = (request.query_params.get("extensions") or "").lower() in ("true", "1", "yes")
        records = _records(work.session, RequestQuery(ids=(service_request_id,)))
        if not records:
            raise Refused(404, _NO_SUCH_REQUEST)
        document: Value = [request_document(records[0], language, extensions)]
        return _respond(document, "service_requests", fmt)

    return _serve(request, fmt, request.query_params.get("jurisdiction_id") or None, produce)


@router.api_route("/{rest:path}", methods=["GET", "POST"], include_in_schema=False)
def no_such_resource(rest: str, request: Request) -> Response:
    """Anything else under the endpoint is a 404 in the spec's form, not the framework's."""
    fmt: Format = "xml" if rest.endswith(".xml") else "json"
    refused = Refused(404, InvalidValue(f"no resource {rest!r}", f"没有 {rest!r} 这个资源"))
    language = preferred_language(request.headers.get("accept-language"))
    return _errors(refused, fmt, language)


def _records(session: Session, query: RequestQuery) -> list[CaseRecord]:
    """The cases the query asks for, newest first, each with its timeline; never a tip-off.

    Only requests made through Open311 are public: a citizen who wrote on the portal or called
    the hotline never agreed that anyone else may read their case.
    """
    statement = (
        select(Case, Open311Request.media_url)
        .outerjoin(Open311Request, Open311Request.case_id == Case.id)
        .where(Case.channel == "open311", Case.kind != TIP_OFF, Case.sealed_contact.is_(None))
    )
    if query.ids:
        statement = statement.where(Case.tracking_no.in_(query.ids))
    else:
        statement = statement.where(*_filters(session, query))
        statement = statement.offset((query.page - 1) * query.page_size)
    statement = statement.order_by(Case.submitted_at.desc(), Case.tracking_no.desc()).limit(
        query.page_size
    )
    rows = session.execute(statement).all()
    timelines: dict[object, list[Note]] = {}
    if rows:
        entries = session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.case_id.in_([case.id for case, _ in rows]))
            .order_by(TimelineEntry.id)
        )
        for entry in entries:
            timelines.setdefault(entry.case_id, []).append(
                Note(entry.occurred_at, entry.status, entry.note)
            )
    return [
        CaseRecord(
            tracking_no=case.tracking_no,
            status=case.status,
            kind=case.kind,
            channel=case.channel,
            category=case.category,
            description=case.description,
            department_name=case.department_name,
            promised_date=case.promised_date,
            submitted_at=case.submitted_at,
            updated_at=case.updated_at,
            address=case.address,
            lat=case.lat,
            lon=case.lon,
            media_url=media_url,
            timeline=tuple(timelines.get(case.id, ())),
        )
        for case, media_url in rows
    ]


def _filters(session: Session, query: RequestQuery) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    if query.service_codes:
        codes = set(query.service_codes)
        named = [n for n in category_names(session.get_bind().engine) if service_code(n) in codes]
        matches = [Case.category.in_(named)] if named else []
        if OTHER in codes:
            matches.append(Case.category.is_(None))
        filters.append(or_(*matches) if matches else false())
    if query.statuses == {"open"}:
        filters.append(Case.status.not_in(CLOSED_STATUSES))
    elif query.statuses == {"closed"}:
        filters.append(Case.status.in_(CLOSED_STATUSES))
    if query.requested_from is not None:
        filters.append(Case.submitted_at >= query.requested_from)
    if query.requested_to is not None:
        filters.append(Case.submitted_at <= query.requested_to)
    if query.updated_after is not None:
        filters.append(Case.updated_at > query.updated_after)
    if query.updated_before is not None:
        filters.append(Case.updated_at < query.updated_before)
    return filters
