"""A small SMSC for tests, speaking SMPP 3.4 on a local port, written from the specification.

It binds transmitters and transceivers (checking the password), answers `submit_sm` with a
message id of its own, and sends `deliver_sm`: delivery receipts (at once, with the status the
test chose, or when the test says) and citizens' replies (MO). A `deliver_sm` the client
answers with an error is delivered again shortly after, as a real SMSC does.
"""

from __future__ import annotations

import itertools
import socket
import struct
import threading
from dataclasses import dataclass, field

BIND_RECEIVER = 0x00000001
BIND_TRANSMITTER = 0x00000002
SUBMIT_SM = 0x00000004
DELIVER_SM = 0x00000005
UNBIND = 0x00000006
BIND_TRANSCEIVER = 0x00000009
ENQUIRE_LINK = 0x00000015
RESPONSE = 0x80000000
GENERIC_NACK = 0x80000000
ESME_ROK = 0x00
ESME_RINVPASWD = 0x0E
ESME_RINVCMDID = 0x03
TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_MESSAGE_STATE = 0x0427
MESSAGE_STATES = {"DELIVRD": 2, "EXPIRED": 3, "DELETED": 4, "UNDELIV": 5, "REJECTD": 8}
REDELIVERY_DELAY = 0.2


@dataclass(frozen=True)
class SubmittedPart:
    message_id: str
    bind: str
    source: str
    destination: str
    esm_class: int
    data_coding: int
    registered_delivery: int
    short_message: bytes

    @property
    def udh(self) -> bytes:
        return self.short_message[: self.short_message[0] + 1] if self.esm_class & 0x40 else b""

    @property
    def payload(self) -> bytes:
        return self.short_message[len(self.udh) :]


@dataclass
class _Connection:
    sock: socket.socket
    bind: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    sequence: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # Our deliver_sm awaiting an answer, by sequence number: the body to send again.
    unanswered: dict[int, bytes] = field(default_factory=dict)


def _cstring(data: bytes, pos: int) -> tuple[str, int]:
    end = data.index(b"\0", pos)
    return data[pos:end].decode("latin-1"), end + 1


class SmppServer:
    """Start with `start()`, stop with `stop()`; everything received is kept for assertions."""

    def __init__(self, system_id: str = "minqing", password: str = "secret") -> None:
        self.system_id, self.password = system_id, password
        self.submitted: list[SubmittedPart] = []
        self.binds: list[str] = []
        self.deliver_answers: list[int] = []
        # The stat a receipt says at once after each submit_sm; None: the test sends them.
        self.auto_receipt: str | None = "DELIVRD"
        # submit_sm to these numbers are refused with the status given.
        self.refusals: dict[str, int] = {}
        self._ids = itertools.count(1000)
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._connections: list[_Connection] = []
        self._stopped = threading.Event()

    def start(self) -> None:
        self._listener.listen()
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()
        for connection in self._connections:
            connection.sock.close()

    def texts(self) -> list[str]:
        """The messages submitted, their parts joined by their concatenation headers."""
        whole: dict[tuple[str, int], dict[int, bytes]] = {}
        texts: list[str] = []
        for part in self.submitted:
            coding = "utf-16-be" if part.data_coding == 8 else "latin-1"
            if not part.udh:
                texts.append(part.payload.decode(coding))
                continue
            reference, total, number = part.udh[3], part.udh[4], part.udh[5]
            key = (part.destination, reference)
            whole.setdefault(key, {})[number] = part.payload
            if len(whole[key]) == total:
                texts.append(b"".join(whole[key][n] for n in sorted(whole[key])).decode(coding))
        return texts

    def send_receipt(self, message_id: str, stat: str, err: str = "000") -> None:
        """A delivery receipt for the part the SMSC knows as `message_id`."""
        text = (
            f"id:{message_id} sub:001 dlvrd:{'001' if stat == 'DELIVRD' else '000'} "
            f"submit date:2612010930 done date:2612010931 stat:{stat} err:{err} text:"
        ).encode()
        tlvs = _tlv(TLV_RECEIPTED_MESSAGE_ID, message_id.encode() + b"\0") + _tlv(
            TLV_MESSAGE_STATE, bytes([MESSAGE_STATES[stat]])
        )
        self._deliver(_deliver_body("13800138000", "106912345", 0x04, 0, text) + tlvs)

    def send_reply(self, sender: str, text: str) -> None:
        """A citizen's SMS to our number (MO), in UCS-2."""
        self._deliver(_deliver_body(sender, "106912345", 0, 8, text.encode("utf-16-be")))

    def send_long_reply(self, sender: str, text: str, reference: int = 42) -> None:
        """A citizen's long reply in UCS-2 parts of 67 characters, the last part first."""
        chunks = [text[i : i + 67].encode("utf-16-be") for i in range(0, len(text), 67)]
        parts = [
            bytes([5, 0, 3, reference, len(chunks), n]) + chunk
            for n, chunk in enumerate(chunks, start=1)
        ]
        for part in reversed(parts):
            self._deliver(_deliver_body(sender, "106912345", 0x40, 8, part))

    def _deliver(self, body: bytes) -> None:
        receivers = [c for c in self._connections if c.bind in ("transceiver", "receiver")]
        if not receivers:
            raise AssertionError("no transceiver is bound to take a deliver_sm")
        connection = receivers[-1]
        sequence = next(connection.sequence)
        connection.unanswered[sequence] = body
        self._write(connection, DELIVER_SM, ESME_ROK, sequence, body)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            connection = _Connection(sock)
            self._connections.append(connection)
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: _Connection) -> None:
        try:
            while True:
                header = _read_exact(connection.sock, 16)
                length, command, status, sequence = struct.unpack(">LLLL", header)
                body = _read_exact(connection.sock, length - 16)
                if not self._answer(connection, command, status, sequence, body):
                    return
        except (OSError, ConnectionError):
            return
        finally:
            connection.sock.close()

    def _answer(
        self, connection: _Connection, command: int, status: int, sequence: int, body: bytes
    ) -> bool:
        if command in (BIND_TRANSMITTER, BIND_TRANSCEIVER, BIND_RECEIVER):
            system_id, pos = _cstring(body, 0)
            password, _ = _cstring(body, pos)
            ok = (system_id, password) == (self.system_id, self.password)
            kind = {BIND_TRANSMITTER: "transmitter", BIND_TRANSCEIVER: "transceiver"}.get(
                command, "receiver"
            )
            if ok:
                connection.bind = kind
                self.binds.append(kind)
            self._write(
                connection,
                command | RESPONSE,
                ESME_ROK if ok else ESME_RINVPASWD,
                sequence,
                b"smsc\0",
            )
        elif command == SUBMIT_SM:
            part = self._submitted(connection.bind, body)
            if part.destination in self.refusals:
                self._write(
                    connection, SUBMIT_SM | RESPONSE, self.refusals[part.destination], sequence, b""
                )
                return True
            self.submitted.append(part)
            self._write(
                connection,
                SUBMIT_SM | RESPONSE,
                ESME_ROK,
                sequence,
                part.message_id.encode() + b"\0",
            )
            if self.auto_receipt is not None and part.registered_delivery & 0x01:
                self.send_receipt(part.message_id, self.auto_receipt)
        elif command == DELIVER_SM | RESPONSE:
            self.deliver_answers.append(status)
            again = connection.unanswered.pop(sequence, None)
            if status != ESME_ROK and again is not None:
                threading.Timer(REDELIVERY_DELAY, self._deliver, args=(again,)).start()
        elif command == ENQUIRE_LINK:
            self._write(connection, ENQUIRE_LINK | RESPONSE, ESME_ROK, sequence, b"")
        elif command == UNBIND:
            self._write(connection, UNBIND | RESPONSE, ESME_ROK, sequence, b"")
            connection.bind = ""
            return False
        elif not command & RESPONSE:
            self._write(connection, GENERIC_NACK, ESME_RINVCMDID, sequence, b"")
        return True

    def _submitted(self, bind: str, body: bytes) -> SubmittedPart:
        _service_type, pos = _cstring(body, 0)
        pos += 2  # source_addr_ton, source_addr_npi
        source, pos = _cstring(body, pos)
        pos += 2  # dest_addr_ton, dest_addr_npi
        destination, pos = _cstring(body, pos)
        esm_class, _protocol_id, _priority = body[pos], body[pos + 1], body[pos + 2]
        pos += 3
        _schedule, pos = _cstring(body, pos)
        _validity, pos = _cstring(body, pos)
        registered_delivery, _replace, data_coding, _default_id, sm_length = body[pos : pos + 5]
        pos += 5
        return SubmittedPart(
            message_id=f"smsc-{next(self._ids)}",
            bind=bind,
            source=source,
            destination=destination,
            esm_class=esm_class,
            data_coding=data_coding,
            registered_delivery=registered_delivery,
            short_message=body[pos : pos + sm_length],
        )

    def _write(
        self, connection: _Connection, command: int, status: int, sequence: int, body: bytes
    ) -> None:
        pdu = struct.pack(">LLLL", 16 + len(body), command, status, sequence) + body
        with connection.lock:
            connection.sock.sendall(pdu)


def _deliver_body(source: str, destination: str, esm_class: int, coding: int, text: bytes) -> bytes:
    return (
        b"\0"  # service_type
        + bytes([1, 1])
        + source.encode()
        + b"\0"
        + bytes([0, 1])
        + destination.encode()
        + b"\0"
        + bytes([esm_class, 0, 0])
        + b"\0\0"  # schedule_delivery_time, validity_period
        + bytes([0, 0, coding, 0, len(text)])
        + text
    )


def _tlv(tag: int, value: bytes) -> bytes:
    return struct.pack(">HH", tag, len(value)) + value


def _read_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data
