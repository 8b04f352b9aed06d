"""The email parser against a corpus of real-world mail: charsets, broken structure, robots."""

from __future__ import annotations

import importlib.util
import random
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.intake.channels.email.message import ParsedEmail
from services.intake.channels.email.parsing import parse_email, strip_quoted_reply

CORPUS = Path(__file__).resolve().parent.parent / "data" / "emails"
PNG = b"\x89PNG\r\n\x1a\n"
PDF = b"%PDF-"
COMPLAINT = "小区路灯坏了一个星期，晚上很黑"
COMPLAINT_TW = "我家門口的路燈壞了一個星期"


@dataclass(frozen=True)
class Expected:
    subject: str
    sender: str | None
    text: str  # a fragment the body must contain ("" for an empty body)
    attachments: tuple[tuple[str, str, bytes], ...] = ()  # name, type, first bytes
    automated: str | None = None
    defect: str | None = None  # a fragment one of the defects must contain
    sender_name: str | None = None


def alias(subject: str = "路灯坏了", text: str = COMPLAINT) -> Expected:
    return Expected(subject, "wang@example.cn", text, sender_name="王女士")


def person(subject: str, sender: str, text: str = COMPLAINT, **more: object) -> Expected:
    return Expected(subject, sender, text, **more)  # type: ignore[arg-type]


ATTACHED = "附件", "attach@example.cn"
ACK_REPLY = "回复：您的诉求已受理，编号20240105-000001"
VACATION = "我正在休假"

EXPECTED: dict[str, Expected] = {
    # Chinese clients and every label of their charsets
    "foxmail_gb2312_label_with_gbk_characters": Expected(
        "关于小区路灯的投诉", "wangkun@foxmail.com", "我叫王堃，住在镕城小区", sender_name="王堃"
    ),
    "qq_mail_gb18030_alternative": Expected(
        "村口道路积水严重", "123456789@qq.com", "村口道路一下雨就积水", sender_name="李明"
    ),
    "mail163_coremail_utf8_quoted_printable": Expected(
        "噪音扰民", "zhaogang@163.com", "楼下饭店每天凌晨两点", sender_name="赵刚"
    ),
    "outlook_gb2312_html_only": Expected(
        "下水道堵塞",
        "chen@company.com.cn",
        "您好：\n\n我单位门前的下水道堵塞，污水外溢&发臭。\n\n联系人：陈先生",
        sender_name="陈先生",
    ),
    "apple_mail_utf8_inline_png_rfc2231_name": Expected(
        "垃圾没人清运",
        "zhouli@icloud.com",
        "小区垃圾已经三天没人清运了",
        (("照片.png", "image/png", PNG),),
        sender_name="周丽",
    ),
    "big5_taiwan_client": alias("路燈壞了", COMPLAINT_TW),
    "big5_hkscs_characters": alias("路燈壞咗", "好危險"),
    "alias_cn_big5": alias("路燈壞了", COMPLAINT_TW),
    "hz_gb_2312_seven_bit": person("路灯", "laoshi@example.edu.cn"),
    "alias_x_gbk": alias(),
    "alias_csgb2312": alias(),
    "alias_windows_936": alias(),
    "alias_cp936": alias(),
    "alias_x_euc_cn": alias(),
    "gb18030_four_byte_characters": alias("生僻字𠀀", "我的名字里有生僻字𠀀，系统总是打不出来😀。"),
    "mislabelled_utf8_declared_gb2312": alias(),
    "mislabelled_gbk_declared_iso_8859_1": Expected(
        "路灯坏了", "wang@example.cn", COMPLAINT, defect="labelled 'iso-8859-1' read as gb18030"
    ),
    "mislabelled_gbk_declared_utf8": Expected(
        "路灯坏了", "wang@example.cn", COMPLAINT, defect="labelled 'utf-8' read as gb18030"
    ),
    "unknown_charset_label": Expected(
        "路灯坏了", "wang@example.cn", COMPLAINT, defect="unknown charset 'x-chinese-unknown'"
    ),
    "no_mime_headers_raw_gbk_body": person("no mime", "old@example.cn"),
    # Headers
    "raw_8bit_gbk_headers": alias("路灯坏了一个星期"),
    "raw_8bit_utf8_headers": alias("路灯坏了一个星期"),
    "raw_8bit_big5_headers_read_by_body_charset": Expected(
        "路燈壞了", "lin@example.com.tw", COMPLAINT_TW, sender_name="林先生"
    ),
    "encoded_words_split_characters_and_q": Expected(
        "关于村里自来水停水的反映（急）",
        "sunhong@example.com",
        "已经停水三天了",
        sender_name="孙红",
    ),
    "encoded_words_damaged_or_unterminated": person(
        "投诉你好中文 =?utf-8?B?5pyq5a6M", "broken@example.com", "正文", defect="nosuchcharset"
    ),
    "message_ids_normalised": Expected(
        "Re: 您的诉求已受理", "zhang.san@example.com", "Thank you.", sender_name="Zhang San"
    ),
    "date_unreadable": person("日期", "date@example.cn", "正文", defect="unreadable Date"),
    "bare_lf_line_endings": person("换行符", "lf@example.cn"),
    # Attachments
    "rfc2231_continuations_gbk_filename_pdf": person(
        *ATTACHED, attachments=(("现场照片说明.pdf", "application/pdf", PDF),)
    ),
    "outlook_encoded_word_in_quoted_filename": person(
        *ATTACHED, attachments=(("投诉材料.pdf", "application/pdf", PDF),)
    ),
    "raw_8bit_utf8_filename": person(*ATTACHED, attachments=(("现场.png", "image/png", PNG),)),
    "tnef_winmail_dat": person(
        *ATTACHED, attachments=(("winmail.dat", "application/ms-tnef", b"\x78\x9f\x3e\x22"),)
    ),
    "inline_image_without_name": person(
        *ATTACHED, attachments=(("image-1.png", "image/png", PNG),)
    ),
    "smime_signed_signature_not_an_attachment": person("signed", "signed@example.cn"),
    "forwarded_message_rfc822_with_photo": person(
        "转发: 河道倾倒垃圾",
        "forwarder@example.cn",
        "请看下面转发的邮件。\n\n---------- 转发的邮件 Forwarded message ----------\n"
        "发件人 From: attach@example.cn\n主题 Subject: 附件\n\n邻居反映：河道里有人倾倒建筑垃圾。",
        attachments=(("photo.png", "image/png", PNG),),
    ),
    # Structure
    "html_only_script_style_entities": person(
        "HTML only",
        "html@example.cn",
        "反映问题\n\n道路<破损> & 积水，请处理。\n\n- 地点：东门\n\n- 时间：每天\n\n"
        "联系人 吴\n\n点这里",
    ),
    "alternative_empty_plain_uses_html": person(
        "empty plain", "emptyplain@example.cn", "桥上的栏杆松了"
    ),
    "nested_mixed_related_alternative_outlook": person(
        "健身器材",
        "nested@example.cn",
        "公园的健身器材坏了。",
        attachments=(
            ("image001.png", "image/png", PNG),
            ("report.pdf", "application/pdf", PDF),
        ),
    ),
    "deeply_nested_multipart_cut_at_limit": person(
        "deep", "deep@example.cn", "最外层的正文", defect="nested deeper than 20 levels"
    ),
    "pathologically_nested_multipart": person(
        "very deep", "verydeep@example.cn", "multi-part", defect="nested too deeply"
    ),
    "missing_boundary_parameter": person(
        "no boundary",
        "noboundary@example.cn",
        "市场门口乱停车。",
        attachments=(("car.png", "image/png", PNG),),
        defect="boundary missing or wrong",
    ),
    "wrong_boundary_parameter": person(
        "wrong boundary",
        "wrongboundary@example.cn",
        "学校门口没有红绿灯。",
        defect="boundary missing or wrong",
    ),
    "truncated_in_attachment": person(
        "truncated",
        "truncated@example.cn",
        "附件是现场照片。",
        attachments=(("big.pdf", "application/pdf", PDF),),
        defect="close boundary not found",
    ),
    "truncated_in_headers": person("截断", "cut@example.cn", ""),
    "bad_base64_body": person(
        "bad base64", "badbase64@example.cn", COMPLAINT, defect="damaged base64"
    ),
    "bad_quoted_printable_body": person(
        "bad qp", "badqp@example.cn", COMPLAINT, defect="undecodable bytes"
    ),
    "empty_body": person("空邮件", "empty@example.cn", ""),
    # Replies to our acknowledgements
    "reply_qq_mail_original_banner": person(ACK_REPLY, "123456789@qq.com", "补充一下"),
    "reply_apple_mail_chinese_wrote": person(ACK_REPLY, "zhouli@icloud.com", "路灯今天还是不亮"),
    "reply_163_wrote_line": person(ACK_REPLY, "zhaogang@163.com", "噪音问题昨晚依旧"),
    "reply_gmail_english_wrote_wrapped": person(ACK_REPLY, "citizen@gmail.com", "still broken"),
    "reply_outlook_from_sent_block": person(ACK_REPLY, "chen@company.com.cn", "已经疏通"),
    "reply_qq_mail_html_only": person(ACK_REPLY, "123456789@qq.com", "垃圾今天还没清走"),
    "reply_outlook_html_from_sent_block": person(ACK_REPLY, "chen@company.com.cn", "有人在家"),
    # Mail no person wrote
    "bounce_postfix_dsn": person(
        "Undelivered Mail Returned to Sender",
        "mailer-daemon@mx.example.net",
        "could not be delivered",
        automated="delivery-report",
        sender_name="Mail Delivery System",
    ),
    "bounce_exchange_ndr": person(
        "Undeliverable: 您的诉求已受理",
        "postmaster@company.com.cn",
        "Delivery has failed",
        automated="delivery-report",
        sender_name="Microsoft Outlook",
    ),
    "bounce_qq_plain_text_postmaster": person(
        "系统退信",
        "postmaster@qq.com",
        "收件人邮箱不存在",
        automated="bounce",
        sender_name="系统退信",
    ),
    "bounce_null_return_path_163": person(
        "退信通知",
        "deliver@163.com",
        "邮件无法投递",
        automated="bounce",
        sender_name="Mail Delivery Subsystem",
    ),
    "bounce_exim_failed_recipients": person(
        "Mail delivery failed: returning message to sender",
        "mailer-daemon@mail.example.org",
        "mail delivery software",
        automated="bounce",
        sender_name="Mail Delivery System",
    ),
    "read_receipt_mdn": person(
        "已读: 您的诉求已受理", "wang@example.cn", "已被阅读", automated="read-receipt"
    ),
    "vacation_gmail_auto_submitted": person(
        "Re: 您的诉求已受理", "leader@example.gov.cn", VACATION, automated="auto-replied"
    ),
    "vacation_exchange_oof": person(
        "自动答复: 您的诉求已受理", "leader@example.gov.cn", VACATION, automated="auto-generated"
    ),
    "vacation_x_autoreply_yes": person(
        "自动回复：您的诉求已受理", "leader@example.gov.cn", VACATION, automated="auto-replied"
    ),
    "vacation_subject_only": person(
        "自动回复: 您的诉求已受理", "leader@example.gov.cn", VACATION, automated="auto-replied"
    ),
    "vacation_precedence_auto_reply": person(
        "Out of Office: case", "leader@example.gov.cn", VACATION, automated="auto-replied"
    ),
    "newsletter_precedence_bulk": person(
        "本周优惠", "leader@example.gov.cn", "全场五折", automated="bulk"
    ),
    "mailing_list_list_id": person(
        "[county-news] 通知", "leader@example.gov.cn", "会议安排", automated="mailing-list"
    ),
    "our_own_acknowledgement": person(
        "您的诉求已受理，编号20240105-000001",
        "12345@minqing.example.gov.cn",
        "查询码R7K2QX",
        automated="acknowledgement",
        sender_name="民情12345",
    ),
    "mail_loop_many_received": person("loop", "looping@example.net", "转来转去", automated="loop"),
    "auto_submitted_no_is_a_person": person("路灯", "leader@example.gov.cn"),
}


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.eml"))


def parsed(name: str) -> ParsedEmail:
    return parse_email((CORPUS / f"{name}.eml").read_bytes())


def load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("email_corpus_build", CORPUS / "build.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_corpus_message_has_its_expectation_and_there_are_enough() -> None:
    assert sorted(path.stem for path in corpus_files()) == sorted(EXPECTED)
    assert len(EXPECTED) >= 40


def test_the_corpus_is_what_its_builder_writes(tmp_path: Path) -> None:
    built = load_builder().build(tmp_path)
    assert {name: (CORPUS / name).read_bytes() for name in built} == built


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message_parses_as_expected(name: str) -> None:
    expected = EXPECTED[name]
    email = parsed(name)

    assert email.subject == expected.subject
    assert email.sender_address == expected.sender
    assert expected.text in email.text
    if not expected.text:
        assert email.text == ""
    assert [(a.filename, a.content_type) for a in email.attachments] == [
        (filename, content_type) for filename, content_type, _ in expected.attachments
    ]
    for attachment, (_, _, magic) in zip(email.attachments, expected.attachments, strict=True):
        assert attachment.data.startswith(magic)
    assert email.automated == expected.automated
    if expected.defect:
        assert any(expected.defect in defect for defect in email.defects), email.defects
    if expected.sender_name:
        assert email.sender_name == expected.sender_name


@pytest.mark.parametrize(
    "name",
    [
        name
        for name, expected in EXPECTED.items()
        if expected.defect is None and name != "truncated_in_headers"
    ],
)
def test_well_formed_corpus_message_reports_no_defect(name: str) -> None:
    assert parsed(name).defects == ()


def test_ids_lose_their_brackets_and_comments_and_repeat_once() -> None:
    email = parsed("message_ids_normalised")

    assert email.message_id == "bare-id-1234@example.com"
    assert email.in_reply_to == ("ack-20240105-000001@minqing.example.gov.cn",)
    assert email.references == ("first@example.com", "ack-20240105-000001@minqing.example.gov.cn")
    assert email.reply_to == "reply.here@example.com"


@pytest.mark.parametrize(
    ("header", "name", "address"),
    [
        ("=?utf-8?B?546L5aWz5aOrIDxXYW5nQEV4YW1wbGUuY24+?=", "王女士", "wang@example.cn"),
        ("a@b.cn, c@d.cn", None, "a@b.cn"),
        ('"unterminated <A@B.cn>', None, "a@b.cn"),
        ("MAILER-DAEMON (Mail Delivery System)", "Mail Delivery System", None),
        ("Name only", None, None),
    ],
)
def test_sender_from_messy_from_headers(header: str, name: str | None, address: str | None) -> None:
    email = parse_email(f"From: {header}\r\n\r\nx".encode())

    assert (email.sender_name, email.sender_address) == (name, address)


def test_date_keeps_its_offset() -> None:
    sent = parsed("alias_x_gbk").sent_at

    assert sent is not None
    assert sent.isoformat() == "2024-01-05T10:00:00+08:00"
    assert isinstance(sent, datetime)


def test_forwarded_attachment_data_is_the_real_png() -> None:
    (photo,) = parsed("forwarded_message_rfc822_with_photo").attachments
    spec = load_builder()

    assert photo.data == spec.png()


def test_truncated_attachment_keeps_what_arrived() -> None:
    (pdf,) = parsed("truncated_in_attachment").attachments

    assert 0 < len(pdf.data) < len(load_builder().pdf()) * 4


@pytest.mark.parametrize(
    ("name", "reply"),
    [
        ("reply_qq_mail_original_banner", "补充一下：路灯在3号楼东侧。"),
        ("reply_apple_mail_chinese_wrote", "谢谢，路灯今天还是不亮。"),
        ("reply_163_wrote_line", "噪音问题昨晚依旧。"),
        ("reply_gmail_english_wrote_wrapped", "The light is still broken."),
        ("reply_outlook_from_sent_block", "下水道今天已经疏通，谢谢。"),
        ("reply_qq_mail_html_only", "垃圾今天还没清走。"),
        ("reply_outlook_html_from_sent_block", "好的，明天上午有人在家。"),
    ],
)
def test_reply_loses_the_message_it_quotes(name: str, reply: str) -> None:
    assert strip_quoted_reply(parsed(name).text) == reply


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("新情况\n-----原始邮件-----\n发件人: 民情", "新情况"),
        ("新情况\n\n-----邮件原件-----\n发件人: 民情", "新情况"),
        ("新情況\n----- 原始郵件 -----\n寄件者: 民情", "新情況"),
        ("新情况\n------------------ Original ------------------\nFrom: x", "新情况"),
        ("Still dark.\n-----Original Message-----\nFrom: Minqing", "Still dark."),
        ("新情况\nFrom: 民情 <a@b.cn>\nSent: Friday\nSubject: x", "新情况"),
        (
            "张三 <a@b.cn> 于2024年1月5日周五 10:00写道：\n> 旧\n",
            "张三 <a@b.cn> 于2024年1月5日周五 10:00写道：\n> 旧",
        ),
        ("> 旧的一行\n我的回答\n> 又一行旧的", "我的回答"),
        ("没有引用的信", "没有引用的信"),
    ],
)
def test_quoted_reply_markers(text: str, reply: str) -> None:
    assert strip_quoted_reply(text) == reply


# --- Never raises ---------------------------------------------------------------------------

TOKENS = (
    b"\r\n",
    b"\n\n",
    b"--",
    b"=?",
    b"?=",
    b"=?gbk?B?",
    b"=?utf-8?Q?=E4",
    b"\xff",
    b"\x00",
    b"\xd6",
    b'"',
    b";",
    b"*0*=",
    b"''%",
    b"boundary=",
    b"charset=x-gbk",
    b"charset=utf-16",
    b"charset=hz-gb-2312",
    b"~{",
    b'Content-Type: multipart/mixed; boundary="a"\r\n\r\n--a\r\n',
    b"Content-Type: message/rfc822\r\n\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"<script>",
    b"<!--",
    b"<![CDATA[",
    b"&#xFFFFFF;",
)


def mutate(raw: bytes, seed: int, steps: int) -> bytes:
    chance = random.Random(seed)
    data = bytearray(raw)
    for _ in range(steps):
        at = chance.randrange(len(data) + 1)
        action = chance.randrange(5)
        if action == 0 and data:
            data[min(at, len(data) - 1)] = chance.randrange(256)
        elif action == 1:
            data[at:at] = chance.choice(TOKENS)
        elif action == 2:
            del data[at : at + chance.randrange(1, 64)]
        elif action == 3:
            data = data[:at]
        else:
            copy_from = chance.randrange(len(data) + 1)
            data[at:at] = data[copy_from : copy_from + chance.randrange(1, 200)]
    return bytes(data)


def assert_well_formed(email: ParsedEmail) -> None:
    for field in fields(email):
        value = getattr(email, field.name)
        texts = value if isinstance(value, tuple) else (value,)
        for text in texts:
            if isinstance(text, str):
                text.encode("utf-8")  # no lone surrogates: it must go into the database
                assert "\x00" not in text
    for attachment in email.attachments:
        assert isinstance(attachment.data, bytes)
        assert attachment.filename
        attachment.filename.encode("utf-8")


RAW_CORPUS = [path.read_bytes() for path in corpus_files()]


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    index=st.integers(0, len(RAW_CORPUS) - 1),
    seed=st.integers(0, 2**32),
    steps=st.integers(1, 12),
)
def test_mutated_corpus_message_never_raises(index: int, seed: int, steps: int) -> None:
    assert_well_formed(parse_email(mutate(RAW_CORPUS[index], seed, steps)))


@given(st.binary(max_size=4000))
@settings(max_examples=300, deadline=None)
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    assert_well_formed(parse_email(raw))


@pytest.mark.parametrize("raw", RAW_CORPUS, ids=[path.stem for path in corpus_files()])
def test_corpus_message_cut_anywhere_never_raises(raw: bytes) -> None:
    for cut in range(0, len(raw), max(1, len(raw) // 25)):
        assert_well_formed(parse_email(raw[:cut]))
