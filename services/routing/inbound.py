"""Departments' own systems move their work orders by message, as the workbench does by hand.

A department system publishes a JSON `DepartmentUpdate` to the durable queue
`routing.department-updates` (default exchange, routing key = the queue's name). Each message is
checked and applied by the same transition function as the workbench, as that department's
handler, and audited with the department's system as the actor. A message that is malformed or
refused (another department's order, a wrong state) changes nothing and goes to the dead-letter
exchange with the reason in its headers; a message id seen before is acknowledged and ignored.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import date
from typing import Any, Literal

from kombu.connection import Connection
from kombu.message import Message
from kombu.messaging import Consumer
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError

from services.kernel.bus import DEAD_EXCHANGE, Destination, Publisher
from services.kernel.outbox import claim_processed
from services.kernel.runtime import ServiceRuntime
from services.routing import lifecycle
from services.routing.lifecycle import Refused
from services.routing.work_orders import Request, Who, act, department_system, find_order

log = logging.getLogger(__name__)

QUEUE = "routing.department-updates"
DepartmentAction = Literal[
    "sign-for", "progress", "request-material", "request-extension", "return", "resolve"
]


class DepartmentUpdate(BaseModel):
    """One status change from a department's system (the documented message format)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: uuid.UUID = Field(description="unique per message: a repeat is ignored")
    department_code: str
    work_order_id: uuid.UUID
    action: DepartmentAction
    reason: str | None = Field(default=None, max_length=4000)
    reason_code: lifecycle.ReturnCode | None = None
    new_due: date | None = None
    co_pending_reason: str | None = Field(default=None, max_length=2000)
    operator: str | None = Field(
        default=None, max_length=50, description="the person in the department, for the audit"
    )

    def actor(self) -> Who:
        who = department_system(self.department_code)
        if self.operator:
            return Who(
                who.actor_id, f"{who.name} ({self.operator})", who.roles, who.department_code
            )
        return who

    def request(self) -> Request:
        return Request(
            reason=self.reason,
            reason_code=self.reason_code,
            new_due=self.new_due,
            co_pending_reason=self.co_pending_reason,
        )


def apply_update(runtime: ServiceRuntime, update: DepartmentUpdate) -> bool:
    """Apply one update in one unit of work; False if its message id was handled before."""
    who = update.actor()
    with runtime.work() as work:
        if not claim_processed(work.session, QUEUE, [update.message_id]):
            return False
        order = find_order(work.session, update.work_order_id, who, lock=True)
        act(work, order, update.action.replace("-", "_"), who, update.request())
    return True


class DepartmentUpdates:
    """Consumes the inbound queue on its own thread, one message per transaction."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self._runtime = runtime
        self._stopping = threading.Event()
        self._dead_letters = Publisher(runtime.bus)
        self._thread = threading.Thread(target=self._run, name=f"consumer-{QUEUE}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        bus = self._runtime.bus
        queue = bus.handler_queue(QUEUE, ())
        while not self._stopping.is_set():
            try:
                with bus.connect() as connection:
                    bus.declare(connection, [queue])
                    self._consume(connection, queue)
            except Exception:
                log.exception("department updates: connection lost; reconnecting")
                self._stopping.wait(1.0)
        self._dead_letters.close()

    def _consume(self, connection: Connection, queue: Any) -> None:
        channel = connection.channel()
        with Consumer(channel, queues=[queue], on_message=self._handle, accept=None) as consumer:
            consumer.qos(prefetch_count=10)
            while not self._stopping.is_set():
                try:
                    connection.drain_events(timeout=0.5)
                except TimeoutError:
                    if self._runtime.bus.durable:
                        connection.heartbeat_check()

    def _handle(self, message: Message) -> None:
        try:
            body = message.body if isinstance(message.body, bytes) else message.body.encode()
            update = DepartmentUpdate.model_validate(json.loads(body))
        except (ValidationError, ValueError, UnicodeDecodeError) as exc:
            self._dead_letter(message, "undecodable", str(exc))
            return
        while True:
            try:
                apply_update(self._runtime, update)
            except Refused as exc:
                self._dead_letter(message, f"refused-{exc.status}", exc.message)
                return
            except (OperationalError, DBAPIError) as exc:
                transient = isinstance(exc, OperationalError) or exc.connection_invalidated
                if not transient:
                    self._dead_letter(message, "failed", type(exc).__name__)
                    return
                # The database is away: hold the message until it is back, never drop it.
                log.warning("department updates: database unavailable; holding the message")
                if self._stopping.wait(1.0):
                    message.requeue()
                    return
                continue
            message.ack()
            return

    def _dead_letter(self, message: Message, reason: str, detail: str) -> None:
        headers = {
            **dict(message.headers or {}),
            "x-minqing-reason": reason,
            "x-minqing-detail": detail[:2000],
            "x-minqing-queue": QUEUE,
        }
        body = message.body if isinstance(message.body, bytes) else str(message.body).encode()
        self._dead_letters.publish(
            Destination(DEAD_EXCHANGE, QUEUE),
            body,
            message_id=str(message.properties.get("message_id") or ""),
            headers=headers,
        )
        message.ack()
        log.warning("department update refused", extra={"reason": reason})
