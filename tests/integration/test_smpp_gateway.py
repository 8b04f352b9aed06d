"""The SMPP gateway against an SMSC speaking SMPP 3.4 on a local port (tests/smpp_server.py)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest

from services.notify.gateways import (
    DeliveryReceipt,
    GatewayError,
    InboundSms,
    OutgoingSms,
    gateway_from_url,
)
from services.notify.gateways.smpp import NOT_YET_KNOWN_PATIENCE, SmppGateway
from services.notify.sms import segments
from tests.smpp_server import SmppServer
from tests.support import free_port, wait_until

pytestmark = pytest.mark.integration

RESOLVED = "您反映的小区路灯问题已由城市管理局处理完毕，请对办理结果进行评价。"
LONG_CHINESE = "【民情12345】" + RESOLVED * 4


class Heard:
    """A listener keeping what the gateway hands it."""

    def __init__(self) -> None:
        self.taken: list[DeliveryReceipt] = []
        self.batches: list[list[str]] = []
        self.replies: list[InboundSms] = []
        self.refuse = threading.Event()
        self.not_yet = 0
        # Parts whose sending has not committed yet: their receipts are not taken.
        self.unknown: set[str] = set()
        # Cleared, a batch waits in the listener (as if its transaction were slow to commit).
        self.open = threading.Event()
        self.open.set()

    def receipts(self, batch: Sequence[DeliveryReceipt]) -> list[DeliveryReceipt]:
        self.batches.append([r.gateway_ref for r in batch])
        assert self.open.wait(10)
        if self.refuse.is_set():
            self.refuse.clear()
            raise RuntimeError("the database is away")
        if self.not_yet:
            self.not_yet -= 1
            return list(batch)
        untaken = [r for r in batch if r.gateway_ref in self.unknown]
        self.taken.extend(r for r in batch if r.gateway_ref not in self.unknown)
        return untaken

    def inbound(self, sms: InboundSms) -> None:
        self.replies.append(sms)


@pytest.fixture
def smsc() -> Iterator[SmppServer]:
    server = SmppServer()
    server.start()
    yield server
    server.stop()


@contextmanager
def listening(smsc: SmppServer) -> Iterator[tuple[SmppGateway, Heard]]:
    """A transceiver bound to `smsc`, handing what comes back to a fresh `Heard`."""
    gateway = gateway_for(smsc)
    heard = Heard()
    gateway.start(heard)
    try:
        yield gateway, heard
    finally:
        gateway.close()


def gateway_for(server: SmppServer, bind: str = "transceiver") -> SmppGateway:
    gateway = gateway_from_url(
        f"smpp://minqing:secret@127.0.0.1:{server.port}?source=106912345&bind={bind}"
    )
    assert isinstance(gateway, SmppGateway)
    return gateway


def sms(message_id: str, text: str) -> OutgoingSms:
    return OutgoingSms(
        message_id=message_id,
        to="13800138000",
        text=text,
        segments=0,
        tracking_no="20261201-000001",
        template="case_resolved",
    )


def test_a_long_chinese_message_goes_as_ucs2_parts_joined_by_their_header(
    smsc: SmppServer,
) -> None:
    with listening(smsc) as (gateway, heard):
        refs = gateway.send(
            [sms("m-1", LONG_CHINESE), sms("m-2", "【民情12345】您的诉求已受理。")]
        ).refs
        gateway.send([sms("m-1", LONG_CHINESE)])  # a retry sends nothing again

        assert smsc.binds[0] == "transceiver"
        parts = [p for p in smsc.submitted if p.udh]
        assert len(parts) == segments(LONG_CHINESE) == 3
        assert {p.data_coding for p in smsc.submitted} == {8}
        assert all(len(p.payload) <= 134 for p in parts)
        assert [p.udh[5] for p in parts] == [1, 2, 3]
        assert smsc.texts() == [LONG_CHINESE, "【民情12345】您的诉求已受理。"]
        assert all(p.registered_delivery == 1 and p.source == "106912345" for p in smsc.submitted)
        assert len(refs["m-1"]) == 3
        assert len(refs["m-2"]) == 1
        wait_until(lambda: len(heard.taken) == 4)
        assert {r.gateway_ref for r in heard.taken} == {*refs["m-1"], *refs["m-2"]}
        assert {r.status for r in heard.taken} == {"delivered"}


def test_a_failed_receipt_carries_the_smscs_reason(smsc: SmppServer) -> None:
    smsc.auto_receipt = None
    with listening(smsc) as (gateway, heard):
        (ref,) = gateway.send([sms("m-1", "【民情12345】您的诉求已受理。")]).refs["m-1"]
        smsc.send_receipt(ref, "UNDELIV", err="011")

        wait_until(lambda: heard.taken)
        (receipt,) = heard.taken
        assert (receipt.gateway_ref, receipt.status, receipt.reason) == (
            ref,
            "failed",
            "UNDELIV err:011",
        )


def test_a_receipt_the_listener_cannot_take_yet_is_delivered_again(smsc: SmppServer) -> None:
    gateway = gateway_for(smsc)
    heard = Heard()
    heard.refuse.set()
    gateway.start(heard)
    try:
        gateway.send([sms("m-1", "【民情12345】您的诉求已受理。")])

        wait_until(lambda: heard.taken)
        # The SMSC hears our answer a moment after the listener took the receipt.
        wait_until(lambda: smsc.deliver_answers and smsc.deliver_answers[-1] == 0)
        assert smsc.deliver_answers[0] != 0
    finally:
        gateway.close()


def test_a_receipt_for_a_sending_not_yet_committed_waits_for_it(smsc: SmppServer) -> None:
    gateway = gateway_for(smsc)
    heard = Heard()
    heard.not_yet = 3
    gateway.start(heard)
    try:
        gateway.send([sms("m-1", "【民情12345】您的诉求已受理。")])

        wait_until(lambda: heard.taken)
        wait_until(lambda: smsc.deliver_answers)
        assert smsc.deliver_answers == [0]
    finally:
        gateway.close()


def test_receipts_waiting_together_are_handed_over_in_one_batch_answered_after_it(
    smsc: SmppServer,
) -> None:
    smsc.auto_receipt = None
    with listening(smsc) as (gateway, heard):
        refs = gateway.send([sms("m-1", LONG_CHINESE), sms("m-2", "【民情12345】已受理。")]).refs
        first, *rest = [*refs["m-1"], *refs["m-2"]]
        heard.open.clear()
        smsc.send_receipt(first, "DELIVRD")
        wait_until(lambda: heard.batches == [[first]])
        for ref in rest:
            smsc.send_receipt(ref, "DELIVRD")
        smsc.send_receipt(rest[0], "DELIVRD")  # the SMSC repeating itself
        # All arrived while the first batch was still being taken.
        wait_until(lambda: gateway._deliveries_in.qsize() == len(rest) + 1)

        # Not answered before the batch it is in has been taken.
        assert smsc.deliver_answers == []
        heard.open.set()

        wait_until(lambda: len(smsc.deliver_answers) == len(rest) + 2)
        assert heard.batches == [[first], [*rest, rest[0]]]
        assert smsc.deliver_answers == [0] * (len(rest) + 2)


def test_a_receipt_for_a_part_not_yet_recorded_holds_up_none_of_the_others(
    smsc: SmppServer,
) -> None:
    smsc.auto_receipt = None
    with listening(smsc) as (gateway, heard):
        refs = gateway.send([sms(f"m-{n}", "【民情12345】已受理。") for n in range(3)]).refs
        (late,), (a,), (b,) = refs.values()
        heard.unknown.add(late)
        for ref in (late, a, b):
            smsc.send_receipt(ref, "DELIVRD")

        # The others are taken and answered while the late one is still being tried again.
        wait_until(lambda: smsc.deliver_answers == [0, 0], timeout=2)
        assert {r.gateway_ref for r in heard.taken} == {a, b}
        assert any(late in batch and a in batch for batch in heard.batches)
        heard.unknown.clear()  # its sending commits

        wait_until(lambda: len(smsc.deliver_answers) == 3)
        assert smsc.deliver_answers == [0, 0, 0]
        assert [r.gateway_ref for r in heard.taken].count(late) == 1


def test_a_receipt_whose_part_never_turns_up_is_refused_for_the_smsc_to_send_again(
    smsc: SmppServer,
) -> None:
    smsc.auto_receipt = None
    with listening(smsc) as (_, heard):
        wait_until(lambda: smsc.binds)
        heard.unknown.add("smsc-9999")
        smsc.send_receipt("smsc-9999", "DELIVRD")

        wait_until(lambda: smsc.deliver_answers, timeout=NOT_YET_KNOWN_PATIENCE + 2)
        assert smsc.deliver_answers[0] == 0x64  # ESME_RX_T_APPN: a temporary error
        heard.unknown.clear()
        wait_until(lambda: smsc.deliver_answers[-1] == 0)
        assert [r.gateway_ref for r in heard.taken] == ["smsc-9999"]


def test_a_citizens_reply_comes_in_on_the_transceiver_link(smsc: SmppServer) -> None:
    with listening(smsc) as (_, heard):
        wait_until(lambda: smsc.binds)
        smsc.send_reply("8613800138000", "进度")

        wait_until(lambda: heard.replies)
        assert (heard.replies[0].sender, heard.replies[0].text) == ("8613800138000", "进度")


def test_a_long_reply_is_joined_from_its_parts_whatever_their_order(smsc: SmppServer) -> None:
    with listening(smsc) as (_, heard):
        wait_until(lambda: smsc.binds)
        smsc.send_long_reply("13800138000", RESOLVED * 3)

        wait_until(lambda: heard.replies)
        (reply,) = heard.replies
        assert reply.text == RESOLVED * 3
        wait_until(lambda: len(smsc.deliver_answers) == 2)  # 105 characters: two parts
        assert smsc.deliver_answers == [0, 0]


def test_a_transmitter_only_sends(smsc: SmppServer) -> None:
    smsc.auto_receipt = None
    gateway = gateway_for(smsc, bind="transmitter")
    gateway.start(Heard())
    try:
        gateway.send([sms("m-1", "Your case 20261201-000001 was received {ok}")])

        assert smsc.binds == ["transmitter"]
        (part,) = smsc.submitted
        assert part.data_coding == 0
        assert b"\x1b\x28ok\x1b\x29" in part.short_message
    finally:
        gateway.close()


def test_a_number_the_smsc_refuses_for_good_is_reported_and_the_rest_go(
    smsc: SmppServer,
) -> None:
    smsc.refusals["10000"] = 0x0B  # ESME_RINVDSTADR
    gateway = gateway_for(smsc)
    gateway.start(Heard())
    try:
        bad = dataclasses.replace(sms("m-1", "【民情12345】您的诉求已受理。"), to="10000")
        handover = gateway.send([bad, sms("m-2", "【民情12345】您的诉求已受理。")])

        assert list(handover.refs) == ["m-2"]
        assert list(handover.refused) == ["m-1"]
        assert "Invalid Destination Address" in handover.refused["m-1"]
    finally:
        gateway.close()


def test_throttling_fails_the_send_for_a_retry(smsc: SmppServer) -> None:
    smsc.refusals["13800138000"] = 0x58  # ESME_RTHROTTLED
    gateway = gateway_for(smsc)
    gateway.start(Heard())
    try:
        with pytest.raises(GatewayError):
            gateway.send([sms("m-1", "【民情12345】您的诉求已受理。")])
        del smsc.refusals["13800138000"]
        assert list(gateway.send([sms("m-1", "【民情12345】您的诉求已受理。")]).refs) == ["m-1"]
    finally:
        gateway.close()


def test_a_wrong_password_or_an_absent_smsc_fails_the_send_for_a_retry(smsc: SmppServer) -> None:
    wrong = gateway_from_url(f"smpp://minqing:wrong@127.0.0.1:{smsc.port}?source=106912345")
    absent = gateway_from_url(f"smpp://minqing:secret@127.0.0.1:{free_port()}?source=106912345")

    for gateway in (wrong, absent):
        with pytest.raises(GatewayError):
            gateway.send([sms("m-1", "【民情12345】您的诉求已受理。")])
        gateway.close()
