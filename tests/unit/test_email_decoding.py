"""The pieces of the email parser: charsets, header values, HTML, automated mail."""

from __future__ import annotations

import base64

import pytest

from services.intake.channels.email.charsets import codecs_for, decode
from services.intake.channels.email.headers import (
    decode_base64,
    decode_header,
    message_ids,
    parameters,
)
from services.intake.channels.email.html_text import html_to_text
from services.intake.channels.email.loops import MAX_RECEIVED, automated_reason

TEXT = "小区路灯坏了一个星期，晚上很黑"
TRADITIONAL = "我家門口的路燈壞了一個星期"

# --- Charsets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "label",
    [
        "gb2312", "GB2312", "gbk", "gb18030", "x-gbk", "csgb2312", "windows-936", "cp936",
        "ms936", "euc-cn", "x-euc-cn", "EUC_CN", "chinese", "csGB2312", '"gb2312"', " gbk ",
    ],
)  # fmt: skip
def test_every_gb_label_reads_as_gb18030(label: str) -> None:
    assert codecs_for(label) == ("gb18030",)
    assert decode("王堃住在镕城".encode("gbk"), label) == ("王堃住在镕城", None)


@pytest.mark.parametrize(
    "label", ["big5", "BIG5", "cn-big5", "x-x-big5", "csbig5", "big5-hkscs", "cp950", "big-5"]
)
def test_every_big5_label_reads_big5(label: str) -> None:
    assert decode(TRADITIONAL.encode("big5"), label) == (TRADITIONAL, None)


def test_big5_label_also_reads_hong_kong_and_microsoft_extensions() -> None:
    assert decode("好危險㗎".encode("big5hkscs"), "big5")[0] == "好危險㗎"
    assert decode("價格€".encode("cp950"), "big5")[0] == "價格€"


@pytest.mark.parametrize("label", ["hz-gb-2312", "HZ", "hz-gb"])
def test_hz_labels_read_seven_bit_hz(label: str) -> None:
    assert decode(TEXT.encode("hz"), label) == (TEXT, None)


def test_valid_utf8_wins_over_a_wrong_gb_label() -> None:
    assert decode(TEXT.encode(), "gb2312") == (TEXT, None)


def test_gbk_labelled_utf8_is_read_as_gb18030_and_noted() -> None:
    text, defect = decode(TEXT.encode("gbk"), "utf-8")

    assert text == TEXT
    assert defect == "text labelled 'utf-8' read as gb18030"


def test_gbk_labelled_latin1_is_read_as_gb18030() -> None:
    assert decode(TEXT.encode("gbk"), "iso-8859-1")[0] == TEXT


def test_real_latin1_stays_latin1() -> None:
    assert decode("Müller café déjà".encode("latin-1"), "iso-8859-1") == ("Müller café déjà", None)


def test_unlabelled_bytes_tell_gb_from_big5() -> None:
    assert decode(TEXT.encode("gbk"), None)[0] == TEXT
    assert decode(TRADITIONAL.encode("big5"), None)[0] == TRADITIONAL


def test_hint_reads_unlabelled_bytes_first() -> None:
    assert decode("路燈".encode("big5"), None, hint="big5")[0] == "路燈"


def test_a_latin1_hint_does_not_turn_gbk_headers_into_mojibake() -> None:
    assert decode("路灯坏了".encode("gbk"), None, hint="iso-8859-1") == ("路灯坏了", None)


def test_an_unknown_label_falls_back_on_the_hint() -> None:
    text, defect = decode("路燈".encode("big5"), "x-weird", hint="big5")

    assert text == "路燈"
    assert defect == "unknown charset 'x-weird'; read as big5hkscs"


def test_utf16_is_read_even_when_every_character_is_ascii() -> None:
    assert decode("hi".encode("utf-16"), "utf-16") == ("hi", None)


@pytest.mark.parametrize("label", ["x-unknown", "base64", "zlib", "rot13", "undefined", "a\x00b"])
def test_labels_that_name_no_text_charset_are_unknown(label: str) -> None:
    text, defect = decode(TEXT.encode("gbk"), label)

    assert codecs_for(label) == ()
    assert text == TEXT
    assert defect is not None
    assert "unknown charset" in defect


def test_bytes_no_charset_reads_are_replaced_not_raised() -> None:
    text, defect = decode(b"ok \x81\x30\xff\xfe", "utf-8")

    assert text.startswith("ok ")
    assert "\ufffd" in text
    assert defect is not None


# --- Header values --------------------------------------------------------------------------


def test_adjacent_encoded_words_join_a_split_character() -> None:
    data = "停水".encode()
    value = f"=?utf-8?B?{b64(data[:2])}?=\r\n =?utf-8?B?{b64(data[2:])}?="

    assert decode_header(value) == "停水"


def test_text_between_encoded_words_is_kept() -> None:
    assert decode_header("=?gbk?Q?=D6=D0?= and =?gbk?B?zsQ=?= x") == "中 and 文 x"


def test_encoded_word_language_suffix_is_ignored() -> None:
    assert decode_header("=?utf-8*zh-cn?B?5Lit?=") == "中"


def test_damaged_base64_word_is_read_as_far_as_it_goes() -> None:
    assert decode_header("=?utf-8?B?5Lit5paH!?=") == "中文"


def test_unterminated_encoded_word_is_kept_as_written() -> None:
    assert decode_header("路灯 =?utf-8?B?5Lit".encode().decode("ascii", "surrogateescape")) == (
        "路灯 =?utf-8?B?5Lit"
    )


def test_raw_8bit_header_uses_the_hint_for_big5() -> None:
    raw = "路燈壞了".encode("big5").decode("ascii", "surrogateescape")

    assert decode_header(raw, hint="big5") == "路燈壞了"


def test_header_line_breaks_and_nul_become_spaces() -> None:
    assert decode_header("a\x00b\r\n c") == "a b c"


def test_rfc2231_sections_join_before_decoding() -> None:
    encoded = "".join(f"%{byte:02X}" for byte in "现场照片.jpg".encode("gbk"))
    value = f"attachment; filename*0*=gbk'zh-cn'{encoded[:9]}; filename*1*={encoded[9:]}"

    assert parameters(value) == ("attachment", {"filename": "现场照片.jpg"})


def test_rfc2231_takes_precedence_over_the_plain_parameter() -> None:
    value = "attachment; filename=\"fallback.pdf\"; filename*=utf-8''%E6%9D%90%E6%96%99.pdf"

    assert parameters(value)[1]["filename"] == "材料.pdf"


def test_quoted_parameters_unescape_and_keep_semicolons() -> None:
    content_type, params = parameters('Text/Plain; charset="gb2312"; name="a\\"b;c.txt"')

    assert content_type == "text/plain"
    assert params == {"charset": "gb2312", "name": 'a"b;c.txt'}


def test_message_ids_from_messy_headers() -> None:
    assert message_ids("<a@x> (comment) <b@y>,\r\n\t<a@x>") == ("a@x", "b@y")
    assert message_ids("bare@host") == ("bare@host",)
    assert message_ids("") == ()


def test_base64_flags_damage() -> None:
    assert decode_base64(b"5Lit5paH") == ("中文".encode(), False)
    assert decode_base64(b"5Lit\r\n5paH\r\n") == ("中文".encode(), False)
    assert decode_base64(b"5Lit5paH5") == ("中文".encode(), True)
    assert decode_base64(b"5L*it5paH") == ("中文".encode(), True)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- HTML -----------------------------------------------------------------------------------


def test_html_loses_scripts_styles_and_comments() -> None:
    html = (
        "<html><head><title>t</title><style>p{}</style></head><body><script>evil()</script>"
        "<!-- hidden --><p>看得见</p><noscript>no</noscript></body></html>"
    )

    assert html_to_text(html) == ("看得见", True)


def test_html_blocks_become_lines_and_entities_are_decoded() -> None:
    html = "第一行<br>第二行<div>第三&amp;四&nbsp;行</div><ul><li>甲</li><li>乙</li></ul>"

    assert html_to_text(html)[0] == "第一行\n第二行\n第三&四 行\n\n- 甲\n\n- 乙"


def test_html_keeps_preformatted_spacing() -> None:
    assert html_to_text("<pre>a   b\n  c</pre><p>x    y</p>")[0] == "a   b\nc\n\nx y"


def test_unclosed_head_ends_at_body() -> None:
    assert html_to_text("<html><head><meta charset=gbk><body>正文")[0] == "正文"


# --- Automated mail -------------------------------------------------------------------------


def reason(headers: dict[str, list[str]], subject: str = "路灯", sender: str = "a@b.cn") -> object:
    return automated_reason(headers, "text/plain", None, sender, subject)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"auto-submitted": ["auto-replied; owner-email=x@y"]}, "auto-replied"),
        ({"auto-submitted": ["Auto-Generated"]}, "auto-generated"),
        ({"auto-submitted": ["auto-something-new"]}, "auto-submitted"),
        ({"auto-submitted": ["no"]}, None),
        ({"x-autoreply": ["yes"]}, "auto-replied"),
        ({"x-autorespond": ["Vacation"]}, "auto-replied"),
        ({"x-autoreply": ["no"]}, None),
        ({"x-auto-response-suppress": ["DR, OOF, AutoReply"]}, "auto-generated"),
        ({"x-auto-response-suppress": ["RN, NRN"]}, None),
        ({"x-fc-machinegenerated": ["true"]}, "auto-generated"),
        ({"x-post-messageclass": ["9; Autoresponder"]}, "auto-replied"),
        ({"precedence": ["junk"]}, "bulk"),
        ({"precedence": ["list"]}, "mailing-list"),
        ({"list-unsubscribe": ["<mailto:x@y>"]}, "mailing-list"),
        ({"x-failed-recipients": ["x@y"]}, "bounce"),
        ({"return-path": ["< >"]}, "bounce"),
        ({"return-path": ["<MAILER-DAEMON@mx.example.net>"]}, "bounce"),
        ({"x-ms-exchange-inbox-rules-loop": ["a@b.cn"]}, "loop"),
        ({"x-minqing-acknowledgement": ["20240105-000001"]}, "acknowledgement"),
        ({"received": ["hop"] * MAX_RECEIVED}, None),
        ({"received": ["hop"] * (MAX_RECEIVED + 1)}, "loop"),
    ],
)
def test_automated_headers(headers: dict[str, list[str]], expected: str | None) -> None:
    assert reason(headers) == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("自动回复: 您的诉求已受理", "auto-replied"),
        ("Automatic reply: case", "auto-replied"),
        ("[自动回复]：休假中", "auto-replied"),
        ("Out of Office AutoReply: case", "auto-replied"),
        ("系统退信", "bounce"),
        ("Undeliverable: case", "bounce"),
        ("自动回复功能怎么关", None),
        ("关于自动回复: 的问题", None),
    ],
)
def test_automated_subjects(subject: str, expected: str | None) -> None:
    assert reason({}, subject=subject) == expected


def test_a_reply_titled_like_a_bounce_is_a_person() -> None:
    assert reason({"in-reply-to": ["<x@y>"]}, subject="退信了？") is None


@pytest.mark.parametrize("sender", ["mailer-daemon@x.cn", "PostMaster@qq.com", "MAILER-DAEMON"])
def test_bounce_senders(sender: str) -> None:
    assert reason({}, sender=sender.lower()) == "bounce"


def test_reports_by_type() -> None:
    assert automated_reason({}, "multipart/report", "delivery-status", None, "") == (
        "delivery-report"
    )
    assert automated_reason({}, "multipart/report", "disposition-notification", None, "") == (
        "read-receipt"
    )
