"""The SMPP 3.4 gateway: an operator's SMSC, over one bound connection kept open.

`smpp://system_id:password@host:2775?source=106912345&bind=transceiver` binds as a
transceiver (the default: receipts and citizens' replies come back on the same link) or, with
`bind=transmitter`, only sends; `window=10` messages are submitted before waiting for the
SMSC's answers. A message longer than one part goes as several `submit_sm`s
joined by a user data header (UDH); each part asks for a delivery receipt, which comes back
as a `deliver_sm` naming the id the SMSC gave that part.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, parse_qs, unquote

from smpplib import client as smpp_client
from smpplib import consts, exceptions, smpp

from services.kernel.clock import utcnow
from services.kernel.config import ConfigError
from services.notify.gateways import (
    DeliveryReceipt,
    GatewayError,
    Handover,
    InboundSms,
    Listener,
    OutgoingSms,
    ReceiptStatus,
    Refused,
)
from services.notify.sms import is_gsm7

log = logging.getLogger(__name__)

# data_coding values (SMPP 3.4, 5.2.19)
DEFAULT_ALPHABET = 0x00
UCS2 = 0x08
# esm_class bits (5.2.12)
UDH_INDICATOR = 0x40
DELIVERY_RECEIPT = 0x04
# registered_delivery: a receipt on final delivery, whether it arrived or failed.
RECEIPT_ON_FINAL = 0x01

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}
_ESCAPE = 0x1B
# Seconds a receipt waits for its part's sending to commit before the SMSC is asked to retry,
# and the pause between its tries meanwhile.
NOT_YET_KNOWN_PATIENCE = 3.0
NOT_YET_KNOWN_PAUSE = 0.05
# deliver_sm taken at once at most: their receipts are applied in one transaction.
TAKE_AT_ONCE = 200
REMEMBERED_MESSAGES = 100_000
# submit_sm_resp statuses that sending again cannot change: the message fails with the reason.
# Anything else (throttling, a full queue, a system error) is retried.
PERMANENT_REFUSALS = frozenset(
    {
        consts.SMPP_ESME_RINVMSGLEN,
        consts.SMPP_ESME_RINVSRCADR,
        consts.SMPP_ESME_RINVDSTADR,
        consts.SMPP_ESME_RINVESMCLASS,
        consts.SMPP_ESME_RINVSRCTON,
        consts.SMPP_ESME_RINVSRCNPI,
        consts.SMPP_ESME_RINVDSTTON,
        consts.SMPP_ESME_RINVDSTNPI,
    }
)


@dataclass(frozen=True)
class Part:
    """One `submit_sm`'s worth of a message."""

    data_coding: int
    esm_class: int
    short_message: bytes


def gsm7_septets(text: str) -> list[bytes]:
    """Each character of GSM-7 `text` as its septets, one octet each (unpacked, as SMPP sends)."""
    return [
        bytes([_ESCAPE, GSM7_EXTENSION[c]]) if c in GSM7_EXTENSION else bytes([GSM7_BASIC.index(c)])
        for c in text
    ]


def gsm7_decode(data: bytes) -> str:
    extension = {code: c for c, code in GSM7_EXTENSION.items()}
    out: list[str] = []
    escaped = False
    for octet in data:
        if escaped:
            out.append(extension.get(octet, " "))
            escaped = False
        elif octet == _ESCAPE:
            escaped = True
        elif octet < len(GSM7_BASIC):
            out.append(GSM7_BASIC[octet])
    return "".join(out)


def ucs2_units(text: str) -> list[bytes]:
    """Each character of `text` in UTF-16BE: two octets, or four for a surrogate pair."""
    return [c.encode("utf-16-be") for c in text]


def _pack(units: Sequence[bytes], limit: int) -> list[bytes]:
    """Consecutive characters in chunks of at most `limit` octets, never splitting one."""
    chunks: list[bytes] = []
    current = b""
    for unit in units:
        if len(current) + len(unit) > limit:
            chunks.append(current)
            current = b""
        current += unit
    chunks.append(current)
    return chunks


def split_message(text: str, reference: int) -> list[Part]:
    """The parts `text` goes as: one if it fits (160 septets / 70 UCS-2 units), else parts of
    153 septets / 67 units, each after a concatenation header naming `reference` (0–255)."""
    if is_gsm7(text):
        units, coding, single, multi = gsm7_septets(text), DEFAULT_ALPHABET, 160, 153
    else:
        units, coding, single, multi = ucs2_units(text), UCS2, 140, 134
    whole = b"".join(units)
    if len(whole) <= single:
        return [Part(coding, 0, whole)]
    chunks = _pack(units, multi)
    if len(chunks) > 255:
        raise ValueError("a message may have at most 255 parts")
    return [
        Part(coding, UDH_INDICATOR, bytes([5, 0, 3, reference, len(chunks), n]) + chunk)
        for n, chunk in enumerate(chunks, start=1)
    ]


def user_data_parts(short_message: bytes) -> tuple[int, int, int, bytes] | None:
    """From a part with a user data header: its reference, total, number, and its own data.

    Knows the 8-bit (IE 0x00) and 16-bit (IE 0x08) concatenation headers; None without one.
    """
    if not short_message:
        return None
    header, data = short_message[1 : 1 + short_message[0]], short_message[1 + short_message[0] :]
    pos = 0
    while pos + 2 <= len(header):
        tag, size = header[pos], header[pos + 1]
        value = header[pos + 2 : pos + 2 + size]
        if tag == 0x00 and size == 3:
            return value[0], value[1], value[2], data
        if tag == 0x08 and size == 4:
            return (value[0] << 8) | value[1], value[2], value[3], data
        pos += 2 + size
    return None


class Reassembly:
    """Joins a citizen's long reply from its parts, which may come in any order."""

    # Replies waiting for a part; the oldest is let go past this many.
    LIMIT = 1000

    def __init__(self) -> None:
        self._waiting: OrderedDict[tuple[str, int, int], dict[int, bytes]] = OrderedDict()

    def add(self, sender: str, short_message: bytes) -> bytes | None:
        """The whole reply's data once its last part is in; None while parts are missing."""
        found = user_data_parts(short_message)
        if found is None:
            return short_message
        reference, total, number, data = found
        key = (sender, reference, total)
        parts = self._waiting.setdefault(key, {})
        parts[number] = data
        if len(parts) < total:
            while len(self._waiting) > self.LIMIT:
                self._waiting.popitem(last=False)
            return None
        return b"".join(parts[n] for n in sorted(parts))

    def forget(self, sender: str, short_message: bytes) -> None:
        """Let go of the parts of the reply this part completed, once it was handed over.

        Kept until then, so that the last part, delivered again after a failed hand-over,
        completes it again.
        """
        found = user_data_parts(short_message)
        if found is not None:
            self._waiting.pop((sender, found[0], found[1]), None)


def concatenation_reference(message_id: str) -> int:
    """A reference the same on every retry of a message, so a handset joins its parts."""
    return hashlib.sha256(message_id.encode()).digest()[0]


_RECEIPT_FIELD = re.compile(r"(id|stat|err):(\S*)", re.IGNORECASE)
# message_state values (5.2.28) as the receipt text's `stat:` words (Appendix B), and what
# each final one means for the part.
_STATE_WORDS = {2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 7: "UNKNOWN", 8: "REJECTD"}
_STAT_WORDS: dict[str, ReceiptStatus] = {
    "DELIVRD": "delivered",
    "EXPIRED": "expired",
    "DELETED": "failed",
    "UNDELIV": "failed",
    "REJECTD": "failed",
    "UNKNOWN": "failed",
}


def parse_receipt(
    text: str, receipted_id: str | None = None, message_state: int | None = None
) -> tuple[str, ReceiptStatus, str | None] | None:
    """The part's reference, its status and the SMSC's reason from a receipt `deliver_sm`.

    The optional parameters, when the SMSC sends them, win over the text, whose format is
    only the specification's suggestion. None when it is not a final receipt.
    """
    fields = {k.lower(): v for k, v in _RECEIPT_FIELD.findall(text)}
    ref = receipted_id or fields.get("id")
    word = _STATE_WORDS.get(message_state or 0) or fields.get("stat", "").upper()
    status = _STAT_WORDS.get(word)
    if not ref or status is None:
        return None
    if status == "delivered":
        return ref, status, None
    return ref, status, f"{word} err:{fields['err']}" if fields.get("err") else word


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value or "")


class _Client(smpp_client.Client):  # type: ignore[misc]
    """smpplib's client, whose writes take turns (task threads send while the reader answers),
    and which answers a `deliver_sm` only once it is taken, off the reading thread."""

    def __init__(
        self, *args: Any, on_deliver: Callable[[_Client, Any], None], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.write_lock = threading.RLock()
        self._on_deliver = on_deliver

    def send_pdu(self, p: Any) -> bool:
        with self.write_lock:
            return bool(super().send_pdu(p))

    def _message_received(self, pdu: Any) -> None:
        # SMPP lets the answer come later; meanwhile the reader goes on with submit answers.
        self._on_deliver(self, pdu)

    def answer_deliver(self, pdu: Any, status: int) -> None:
        answer = smpp.make_pdu("deliver_sm_resp", client=self, status=status)
        answer.sequence = pdu.sequence
        self.send_pdu(answer)


class SmppGateway:
    """One bound SMPP connection, shared by the sending threads, and a thread reading from it.

    The SMSC cannot tell a repeat. Within the process the gateway remembers what the SMSC took,
    so a retry after a lost answer sends only the rest; across a crash, the handover stamp that
    notify commits before sending (`sending.stamp_handovers`) keeps a message from going twice.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        system_id: str,
        password: str,
        source: str,
        transceiver: bool = True,
        system_type: str = "",
        timeout: float = 10.0,
        enquire_every: float = 30.0,
        window: int = 10,
    ) -> None:
        self.host, self.port = host, port
        self._system_id, self._password, self._system_type = system_id, password, system_type
        self._source = source
        self._transceiver = transceiver
        # A transmitter has no way to hear receipts, so nothing waits for them.
        self.sends_receipts = transceiver
        self.dedupes = False
        self._timeout = timeout
        self._enquire_every = enquire_every
        self._window = window
        self._lock = threading.Lock()
        self._client: _Client | None = None
        self._pending: dict[int, Future[str]] = {}
        self._sent: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self._listener: Listener | None = None
        self._closing = threading.Event()
        self._keeper: threading.Thread | None = None
        self._reader: threading.Thread | None = None
        self._deliveries_in: queue.Queue[tuple[_Client, Any] | None] = queue.Queue()
        self._taker: threading.Thread | None = None
        self._replies = Reassembly()

    @classmethod
    def from_url(cls, parts: SplitResult) -> SmppGateway:
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        bind = query.get("bind", "transceiver")
        window = query.get("window", "10")
        if (
            bind not in ("transceiver", "transmitter")
            or not parts.username
            or not window.isdigit()
            or int(window) < 1
        ):
            raise ConfigError(
                "MINQING_SMS_GATEWAY: expected smpp://system_id:password@host:port"
                "?source=<our number>&bind=transceiver|transmitter&window=<messages in flight>"
            )
        return cls(
            host=parts.hostname or "",
            port=parts.port or 2775,
            system_id=unquote(parts.username),
            password=unquote(parts.password or ""),
            source=query.get("source", ""),
            transceiver=bind == "transceiver",
            system_type=query.get("system_type", ""),
            window=int(window),
        )

    def start(self, listener: Listener) -> None:
        """Keep the link bound, so receipts and replies arrive even while nothing is sent."""
        self._listener = listener
        self._taker = threading.Thread(target=self._take_deliveries, name="smpp-take", daemon=True)
        self._taker.start()
        if self._transceiver:
            self._keeper = threading.Thread(target=self._keep_bound, name="smpp-link", daemon=True)
            self._keeper.start()

    def close(self) -> None:
        self._closing.set()
        if self._keeper is not None:
            self._keeper.join(self._timeout)
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            # The reader takes the answer and, finding itself no longer the link's, stops.
            with contextlib.suppress(exceptions.ConnectionError, exceptions.PDUError, OSError):
                client.send_pdu(smpp.make_pdu("unbind", client=client))
            reader = self._reader
            if reader is not None:
                reader.join(self._timeout)
            if reader is None or reader.is_alive():
                client.disconnect()  # else the reader has, on its way out
        self._deliveries_in.put(None)
        if self._taker is not None:
            self._taker.join(5)

    def send(self, messages: Sequence[OutgoingSms]) -> Handover:
        """Submit the parts of several messages, then wait for the SMSC's answers together:
        the link carries a window of messages in one round trip's time, not one per part."""
        fresh = [m for m in messages if m.message_id not in self._sent]
        refused: dict[str, str] = {}
        if fresh:
            client = self._bound()
            try:
                # SMSCs cap the submits awaiting an answer (the window); stay under it.
                for start in range(0, len(fresh), self._window):
                    answers = self._submit(client, fresh[start : start + self._window])
                    for message_id, parts in answers.items():
                        try:
                            refs = tuple(a.result(timeout=self._timeout) for a in parts)
                        except Refused as exc:
                            refused[message_id] = str(exc)
                        else:
                            self._remember(message_id, refs)
            except FutureTimeout as exc:
                self._drop(client)
                raise GatewayError(f"SMSC {self.host}:{self.port} did not answer in time") from exc
            except (exceptions.ConnectionError, exceptions.PDUError, OSError) as exc:
                self._drop(client)
                raise GatewayError(f"SMSC {self.host}:{self.port}: {type(exc).__name__}") from exc
        sent = {
            m.message_id: self._sent[m.message_id] for m in messages if m.message_id in self._sent
        }
        return Handover(sent, refused)

    def _remember(self, message_id: str, refs: tuple[str, ...]) -> None:
        self._sent[message_id] = refs
        # A retry comes within minutes; older messages need not be remembered.
        while len(self._sent) > REMEMBERED_MESSAGES:
            self._sent.popitem(last=False)

    def _submit(
        self, client: _Client, messages: Sequence[OutgoingSms]
    ) -> dict[str, list[Future[str]]]:
        answers: dict[str, list[Future[str]]] = {}
        with client.write_lock:
            for sms in messages:
                addresses = self._addresses(sms.to)
                for part in split_message(sms.text, concatenation_reference(sms.message_id)):
                    pdu = _make_submit(client, addresses, part)
                    answer: Future[str] = Future()
                    self._pending[pdu.sequence] = answer
                    answers.setdefault(sms.message_id, []).append(answer)
                    client.send_pdu(pdu)
        return answers

    def _addresses(self, to: str) -> dict[str, Any]:
        numeric = self._source.lstrip("+").isdigit()
        return {
            # A number as the sender is national (unknown type, ISDN plan); a name is alphanumeric.
            "source_addr_ton": consts.SMPP_TON_UNK if numeric else consts.SMPP_TON_ALNUM,
            "source_addr_npi": consts.SMPP_NPI_ISDN if numeric else consts.SMPP_NPI_UNK,
            "source_addr": self._source,
            "dest_addr_ton": consts.SMPP_TON_INTL if to.startswith("+") else consts.SMPP_TON_UNK,
            "dest_addr_npi": consts.SMPP_NPI_ISDN,
            "destination_addr": to.lstrip("+"),
        }

    def _bound(self) -> _Client:
        """The bound client, binding anew if the link was lost."""
        with self._lock:
            if self._client is not None:
                return self._client
            if self._closing.is_set():
                raise GatewayError("the SMPP gateway is closed")
            client = _Client(
                self.host,
                self.port,
                timeout=self._enquire_every,
                allow_unknown_opt_params=True,
                on_deliver=lambda c, pdu: self._deliveries_in.put((c, pdu)),
            )
            try:
                client.connect()
                client._socket.settimeout(self._timeout)
                bind = client.bind_transceiver if self._transceiver else client.bind_transmitter
                bind(
                    system_id=self._system_id,
                    password=self._password,
                    system_type=self._system_type,
                )
                client._socket.settimeout(self._enquire_every)
            except (exceptions.ConnectionError, exceptions.PDUError, OSError) as exc:
                client.disconnect()
                raise GatewayError(
                    f"cannot bind to SMSC {self.host}:{self.port}: {type(exc).__name__} {exc}"
                ) from exc
            client.set_message_sent_handler(self._answered)
            client.set_error_pdu_handler(self._refused)
            self._client = client
            self._reader = threading.Thread(
                target=self._read, args=(client,), name="smpp-reader", daemon=True
            )
            self._reader.start()
            log.info("bound to SMSC", extra={"host": self.host, "port": self.port})
            return client

    def _read(self, client: _Client) -> None:
        try:
            while self._client is client:
                # On a quiet link the read times out and smpplib sends an enquire_link.
                client.read_once()
        except (exceptions.ConnectionError, exceptions.PDUError, OSError) as exc:
            if self._client is client:
                log.warning("SMPP link lost", extra={"reason": type(exc).__name__})
        self._drop(client)

    def _drop(self, client: _Client) -> None:
        with self._lock:
            if self._client is client:
                self._client = None
        pending, self._pending = self._pending, {}
        for answer in pending.values():
            if not answer.done():
                answer.set_exception(GatewayError("the SMPP link was lost"))
        with contextlib.suppress(OSError):
            client.disconnect()

    def _keep_bound(self) -> None:
        while not self._closing.is_set():
            try:
                self._bound()
            except GatewayError as exc:
                log.warning("SMSC unreachable", extra={"reason": str(exc)})
            self._closing.wait(5)

    def _answered(self, pdu: Any) -> None:
        answer = self._pending.pop(pdu.sequence, None)
        if answer is not None and not answer.done():
            answer.set_result(_text(pdu.message_id))

    def _refused(self, pdu: Any) -> None:
        answer = self._pending.pop(pdu.sequence, None)
        reason = f"{consts.DESCRIPTIONS.get(pdu.status, 'unknown status')} (0x{pdu.status:x})"
        if answer is not None and not answer.done():
            if pdu.status in PERMANENT_REFUSALS:
                answer.set_exception(Refused(reason))
            else:
                answer.set_exception(GatewayError(f"SMSC refused the message: {reason}"))

    def _take_deliveries(self) -> None:
        """Take what the reader queued, as much at once as is waiting: the receipts together
        in one transaction, each answered once it committed; replies one by one."""
        waiting: list[_Awaited] = []
        more_may_come = True
        while more_may_come or waiting:
            # Receipts waiting for their sending are tried again after a pause, with whatever
            # came meanwhile; however many wait, new arrivals (and the close) are still seen.
            arrived, more_may_come = self._arrived(
                room=max(1, TAKE_AT_ONCE - len(waiting)),
                wait=NOT_YET_KNOWN_PAUSE if waiting else None,
            )
            receipts, replies = list(waiting), []
            for client, pdu in arrived:
                if not (pdu.esm_class or 0) & DELIVERY_RECEIPT:
                    replies.append((client, pdu))
                elif (receipt := _receipt_of(pdu)) is None:
                    _answer(client, pdu, consts.SMPP_ESME_ROK)  # not final: nothing to take
                else:
                    give_up_at = time.monotonic() + NOT_YET_KNOWN_PATIENCE
                    receipts.append(_Awaited(client, pdu, receipt, give_up_at))
            waiting = self._take_receipts(receipts)
            for client, pdu in replies:
                _answer(client, pdu, self._take_reply(pdu))

    def _arrived(self, room: int, wait: float | None) -> tuple[list[tuple[_Client, Any]], bool]:
        """Up to `room` deliveries, waiting `wait` seconds (None: for ever) for the first; and
        False once the gateway has closed and no more will come."""
        arrived: list[tuple[_Client, Any]] = []
        try:
            item = self._deliveries_in.get(timeout=wait)
            while item is not None:
                arrived.append(item)
                if len(arrived) >= room:
                    return arrived, True
                item = self._deliveries_in.get_nowait()
        except queue.Empty:
            return arrived, True
        return arrived, False

    def _take_receipts(self, batch: Sequence[_Awaited]) -> list[_Awaited]:
        """Hand the receipts over together and answer those taken; those still to try again.

        A receipt naming a part whose sending has not committed yet is tried again for a
        moment; past that, a temporary error has the SMSC deliver it again later.
        """
        if not batch:
            return []
        listener = self._listener
        try:
            if listener is None:
                raise GatewayError("no listener takes receipts yet")
            untaken = set(listener.receipts([a.receipt for a in batch]))
        except Exception:
            log.exception("could not take a batch of receipts")
            for awaited in batch:
                _answer(awaited.client, awaited.pdu, consts.SMPP_ESME_RX_T_APPN)
            return []
        now = time.monotonic()
        still_waiting: list[_Awaited] = []
        for awaited in batch:
            if awaited.receipt not in untaken:
                _answer(awaited.client, awaited.pdu, consts.SMPP_ESME_ROK)
            elif now < awaited.give_up_at and not self._closing.is_set():
                still_waiting.append(awaited)
            else:
                _answer(awaited.client, awaited.pdu, consts.SMPP_ESME_RX_T_APPN)
        return still_waiting

    def _take_reply(self, pdu: Any) -> int:
        """Hand a citizen's reply (or a part of a long one) over; the SMPP status to answer."""
        listener = self._listener
        sender, data = _text(pdu.source_addr), pdu.short_message or b""
        long_reply = bool((pdu.esm_class or 0) & UDH_INDICATOR)
        try:
            if listener is None:
                raise GatewayError("no listener takes replies yet")
            # A long reply comes in parts; each is acknowledged as it comes, and the whole
            # handed over with the last (a crash in between loses the parts held so far).
            whole = self._replies.add(sender, data) if long_reply else data
            if whole is not None:
                listener.inbound(
                    InboundSms(
                        sender=sender,
                        text=_decode(pdu.data_coding or 0, whole),
                        received_at=utcnow(),
                        gateway_ref=None,
                    )
                )
                if long_reply:
                    self._replies.forget(sender, data)
        except Exception:
            log.exception("could not take a citizen's reply")
            return int(consts.SMPP_ESME_RX_T_APPN)
        return int(consts.SMPP_ESME_ROK)


@dataclass(frozen=True)
class _Awaited:
    """A receipt's `deliver_sm`, answered once the receipt is taken or given up on."""

    client: _Client
    pdu: Any
    receipt: DeliveryReceipt
    # On time.monotonic()'s clock: past this, a receipt naming an unknown part is refused.
    give_up_at: float


def _receipt_of(pdu: Any) -> DeliveryReceipt | None:
    """The receipt a `deliver_sm` carries; None when it is not a final one."""
    parsed = parse_receipt(
        _text(pdu.short_message), _text(pdu.receipted_message_id) or None, pdu.message_state
    )
    if parsed is None:
        return None
    ref, status, reason = parsed
    return DeliveryReceipt(ref, status, reason, utcnow())


def _answer(client: _Client, pdu: Any, status: int) -> None:
    try:
        client.answer_deliver(pdu, status)
    except (exceptions.ConnectionError, exceptions.PDUError, OSError):
        # Unanswered, it comes again on the next link; taking it twice changes nothing.
        log.warning("could not answer a deliver_sm: the link is gone")


def _make_submit(client: _Client, addresses: dict[str, Any], part: Part) -> Any:
    return smpp.make_pdu(
        "submit_sm",
        client=client,
        service_type="",
        **addresses,
        esm_class=part.esm_class,
        data_coding=part.data_coding,
        short_message=part.short_message,
        registered_delivery=RECEIPT_ON_FINAL,
    )


def _decode(data_coding: int, data: bytes) -> str:
    if data_coding == UCS2:
        return data.decode("utf-16-be", errors="replace")
    if data_coding == DEFAULT_ALPHABET:
        return gsm7_decode(data)
    return data.decode("latin-1")
