"""The HTTP gateway: a generic SMS provider's JSON API, each request signed with HMAC-SHA256.

We POST to the configured URL

    {"messages": [{"id": "<notify's message id>", "to": "13800138000", "text": "【…】…",
                   "segments": 1}]}

with `X-Minqing-Timestamp: <unix seconds>` and
`X-Minqing-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" under the shared secret>`.
The provider answers 2xx with `{"messages": [{"id": "...", "ref": "<its id>"}]}` (a message
without `ref` is known by our id; one with `"error": "<reason>"` it refuses for good, and it
fails without retries), and must treat a repeated `id` as the same message.
It reports delivery and citizens' replies by posting, signed the same way, to notify's
`/api/v1/notify/sms/receipts` (`{"receipts": [{"ref": "...", "status": "delivered"}, ...]}`,
as many as it has, up to 1000) and `/api/v1/notify/sms/inbound` (see `services.notify.api`).
A 503 names the refs not yet known; the provider posts those (or the whole batch) again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from urllib.parse import urlsplit

from services.notify.gateways import GatewayError, Handover, Listener, OutgoingSms

TIMESTAMP_HEADER = "X-Minqing-Timestamp"
SIGNATURE_HEADER = "X-Minqing-Signature"
# A signed request older or newer than this is refused, so a captured one cannot be replayed.
SIGNATURE_TOLERANCE_SECONDS = 300
HTTP_TIMEOUT = 10.0


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The header value signing `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def signature_is_valid(
    secret: str, timestamp: str | None, body: bytes, given: str | None, now: float
) -> bool:
    """Whether `given` signs `body` at `timestamp`, and `timestamp` is recent enough."""
    if not secret or timestamp is None or given is None:
        return False
    try:
        age = abs(now - int(timestamp))
    except ValueError:
        return False
    if age > SIGNATURE_TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), given)


def signed_headers(secret: str, body: bytes, now: float) -> dict[str, str]:
    timestamp = str(int(now))
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


class HttpGateway:
    """Posts each batch as one signed request; the provider dedupes on our message id."""

    sends_receipts = True
    dedupes = True

    def __init__(self, url: str, secret: str, timeout: float = HTTP_TIMEOUT) -> None:
        self.url = url
        self._secret = secret
        self._timeout = timeout
        self._host = urlsplit(url).netloc

    def send(self, messages: Sequence[OutgoingSms]) -> Handover:
        body = json.dumps(
            {
                "messages": [
                    {"id": m.message_id, "to": m.to, "text": m.text, "segments": m.segments}
                    for m in messages
                ]
            },
            ensure_ascii=False,
        ).encode()
        request = urllib.request.Request(  # noqa: S310 (the URL is the operator's setting)
            self.url,
            data=body,
            headers=signed_headers(self._secret, body, time.time()),
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise GatewayError(f"SMS provider {self._host} answered {exc.code}") from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise GatewayError(f"SMS provider {self._host}: {type(exc).__name__}") from exc
        answered = {
            str(item["id"]): item
            for item in answer.get("messages", [])
            if isinstance(item, dict) and "id" in item
        }
        refs: dict[str, tuple[str, ...]] = {}
        refused: dict[str, str] = {}
        for m in messages:
            item = answered.get(m.message_id, {})
            if item.get("error"):
                refused[m.message_id] = str(item["error"])[:400]
            else:
                refs[m.message_id] = (str(item.get("ref") or m.message_id),)
        return Handover(refs, refused)

    def start(self, listener: Listener) -> None:
        """Receipts and replies come to notify's HTTP API instead."""

    def close(self) -> None:
        """Each request has its own connection."""
