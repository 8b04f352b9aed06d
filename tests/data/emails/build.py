"""Writes the corpus of tricky emails: `python tests/data/emails/build.py`.

Each message is put together from the exact bytes real clients send (Chinese text run through
Python's codecs, base64 and quoted-printable as the clients wrap them), so the corpus can be
read and regenerated. `tests/unit/test_email_parsing.py` states what each one must parse into.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import struct
import sys
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
CRLF = b"\r\n"
DATE = "Fri, 05 Jan 2024 10:00:00 +0800"
OUR_ADDRESS = "12345@minqing.example.gov.cn"
COMPLAINT = "小区路灯坏了一个星期，晚上很黑，老人出门不方便，请尽快修理。"
COMPLAINT_TW = "我家門口的路燈壞了一個星期，晚上很黑，請盡快修理。"

Header = tuple[str, str | bytes]
CORPUS: dict[str, Callable[[], bytes]] = {}


def email(name: str) -> Callable[[Callable[[], bytes]], Callable[[], bytes]]:
    def register(build: Callable[[], bytes]) -> Callable[[], bytes]:
        CORPUS[name] = build
        return build

    return register


def png() -> bytes:
    """A real 2×2 red PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def pdf() -> bytes:
    """A real one-page PDF with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R >>",
        b"<< /Length 35 >>\nstream\nBT /F1 12 Tf 20 50 Td (photo) Tj ET\nendstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


def b64(data: bytes, width: int = 76) -> bytes:
    encoded = base64.b64encode(data)
    return CRLF.join(encoded[i : i + width] for i in range(0, len(encoded), width))


def qp(data: bytes) -> bytes:
    return quopri.encodestring(data).replace(b"\n", CRLF)


def word(text: str, charset: str, encoding: str = "B") -> str:
    """One RFC 2047 encoded word."""
    data = text.encode(charset)
    if encoding == "B":
        return f"=?{charset}?B?{base64.b64encode(data).decode()}?="
    quoted = binascii.b2a_qp(data, header=True).decode().replace("?", "=3F")
    return f"=?{charset}?Q?{quoted}?="


def message(headers: Iterable[Header], body: bytes, eol: bytes = CRLF) -> bytes:
    lines = [
        (name.encode() + b": " + (value if isinstance(value, bytes) else value.encode()))
        for name, value in headers
    ]
    return eol.join(lines) + eol + eol + body


def part(headers: Iterable[Header], body: bytes) -> bytes:
    return message(headers, body)


def multipart(boundary: str, parts: Iterable[bytes], close: bool = True) -> bytes:
    delimiter = b"--" + boundary.encode()
    body = b"This is a multi-part message in MIME format." + CRLF
    for item in parts:
        body += CRLF + delimiter + CRLF + item
    return body + (CRLF + delimiter + b"--" + CRLF if close else b"")


def common(
    subject: str | bytes, sender: str | bytes, message_id: str, *extra: Header
) -> list[Header]:
    return [
        ("From", sender),
        ("To", OUR_ADDRESS),
        ("Subject", subject),
        ("Date", DATE),
        ("Message-ID", f"<{message_id}>"),
        ("MIME-Version", "1.0"),
        *extra,
    ]


def text_part(text: str, charset: str, encoding: str = "base64", subtype: str = "plain") -> bytes:
    data = text.encode(charset)
    body = {"base64": b64, "quoted-printable": qp}.get(encoding, lambda d: d)(data)
    return part(
        [
            ("Content-Type", f'text/{subtype}; charset="{charset}"'),
            ("Content-Transfer-Encoding", encoding),
        ],
        body,
    )


def html_of(text: str, charset: str) -> str:
    return (
        f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
        "<style>p{margin:0}</style></head><body>"
        f"<div>{text}</div><div><br></div><div>王女士</div></body></html>"
    )


def single(charset_label: str, text: str, codec: str, subject: str = "路灯坏了") -> bytes:
    """A plain message in `codec` bytes, labelled `charset_label`, sent 8-bit."""
    return message(
        common(
            word(subject, codec),
            f"{word('王女士', codec)} <wang@example.cn>",
            f"{charset_label}@example.cn",
            ("Content-Type", f"text/plain; charset={charset_label}"),
            ("Content-Transfer-Encoding", "8bit"),
        ),
        text.encode(codec).replace(b"\n", CRLF),
    )


# --- Chinese clients and charsets -------------------------------------------------------


@email("foxmail_gb2312_label_with_gbk_characters")
def _foxmail() -> bytes:
    text = "我叫王堃，住在镕城小区3栋。" + COMPLAINT
    return message(
        common(
            word("关于小区路灯的投诉", "gb2312"),
            f'"{word("王堃", "gbk")}" <wangkun@foxmail.com>',
            "202401051000000001@foxmail.com",
            ("X-Mailer", "Foxmail 7.2.25.228[cn]"),
            ("Content-Type", 'multipart/alternative; boundary="----=_NextPart_659763A0_0F3E1B20"'),
        ),
        multipart(
            "----=_NextPart_659763A0_0F3E1B20",
            [
                text_part(text, "gbk").replace(b'charset="gbk"', b'charset="gb2312"'),
                text_part(html_of(text, "gb2312"), "gbk", subtype="html").replace(
                    b'charset="gbk"', b'charset="gb2312"'
                ),
            ],
        ),
    )


@email("qq_mail_gb18030_alternative")
def _qq() -> bytes:
    return message(
        common(
            word("村口道路积水严重", "gb18030"),
            f'"{word("李明", "gb18030")}" <123456789@qq.com>',
            "tencent_3F2A1B@qq.com",
            ("X-QQ-mid", "webmail123t1704420000t1234567"),
            ("X-QQ-XMAILINFO", "NhJ3/PxYcBeRf7t7Mq2g"),
            ("Content-Type", 'multipart/alternative; boundary="----=_NextPart_6597A1B2_0A1B2C3D"'),
        ),
        multipart(
            "----=_NextPart_6597A1B2_0A1B2C3D",
            [
                text_part("村口道路一下雨就积水，电动车都过不去。", "gb18030"),
                text_part(
                    "<div>村口道路一下雨就积水，电动车都过不去。</div>", "gb18030", subtype="html"
                ),
            ],
        ),
    )


@email("mail163_coremail_utf8_quoted_printable")
def _coremail() -> bytes:
    return message(
        common(
            word("噪音扰民", "UTF-8"),
            f'"{word("赵刚", "UTF-8")}" <zhaogang@163.com>',
            "3c1a2b.4d5e.18cd0a1b2c3.Coremail.zhaogang@163.com",
            ("X-Mailer", "Coremail Webmail Server Version XT5.0.14 build 20230606"),
            ("X-Coremail-Locale", "zh_CN"),
            ("Content-Type", 'multipart/alternative; boundary="----=_Part_123_456.1704420000000"'),
        ),
        multipart(
            "----=_Part_123_456.1704420000000",
            [
                text_part("楼下饭店每天凌晨两点还在营业，噪音很大。", "UTF-8", "quoted-printable"),
                text_part(
                    "<div style='line-height:1.7'>楼下饭店每天凌晨两点还在营业，噪音很大。</div>",
                    "UTF-8",
                    "quoted-printable",
                    "html",
                ),
            ],
        ),
    )


@email("outlook_gb2312_html_only")
def _outlook_html() -> bytes:
    html = (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>'
        '<meta http-equiv=Content-Type content="text/html; charset=gb2312">'
        "<!--[if gte mso 9]><xml><o:OfficeDocumentSettings><o:AllowPNG/>"
        "</o:OfficeDocumentSettings></xml><![endif]-->"
        "<style><!-- p.MsoNormal {margin:0cm; font-family:宋体} --></style></head>"
        "<body lang=ZH-CN><div class=WordSection1>"
        "<p class=MsoNormal>您好：<o:p></o:p></p>"
        "<p class=MsoNormal>&nbsp;&nbsp;我单位门前的下水道堵塞，污水外溢&amp;发臭。<o:p></o:p></p>"
        "<p class=MsoNormal>联系人：陈先生<o:p></o:p></p></div></body></html>"
    )
    return message(
        common(
            word("下水道堵塞", "gb2312"),
            f"{word('陈先生', 'gb2312')} <chen@company.com.cn>",
            "000001d9a1b2$c3d4e5f0$a1b2c3d4$@company.com.cn",
            ("X-Mailer", "Microsoft Outlook 16.0"),
            ("Thread-Index", "AdpBo8Nq2vXyZ1abQk2vX3n5JHk6Ag=="),
            ("Content-Language", "zh-cn"),
            ("Content-Type", 'text/html; charset="gb2312"'),
            ("Content-Transfer-Encoding", "base64"),
        ),
        b64(html.encode("gb2312")),
    )


@email("apple_mail_utf8_inline_png_rfc2231_name")
def _apple() -> bytes:
    return message(
        common(
            word("垃圾没人清运", "utf-8"),
            f"{word('周丽', 'utf-8')} <zhouli@icloud.com>",
            "A1B2C3D4-E5F6-4711-8899-AABBCCDDEEFF@icloud.com",
            ("X-Mailer", "Apple Mail (2.3774.300.61.1.2)"),
            ("Content-Type", 'multipart/mixed; boundary="Apple-Mail=_1F2E3D4C-5B6A"'),
        ),
        multipart(
            "Apple-Mail=_1F2E3D4C-5B6A",
            [
                part(
                    [
                        ("Content-Transfer-Encoding", "quoted-printable"),
                        ("Content-Type", "text/plain; charset=utf-8; format=flowed"),
                    ],
                    qp("小区垃圾已经三天没人清运了，附上照片。".encode()),
                ),
                part(
                    [
                        ("Content-Disposition", "inline; filename*=utf-8''%E7%85%A7%E7%89%87.png"),
                        (
                            "Content-Type",
                            'image/png; x-unix-mode=0644; name="=?utf-8?B?54Wn54mHLnBuZw==?="',
                        ),
                        ("Content-Transfer-Encoding", "base64"),
                    ],
                    b64(png()),
                ),
            ],
        ),
    )


@email("big5_taiwan_client")
def _big5() -> bytes:
    return single("big5", COMPLAINT_TW, "big5", subject="路燈壞了")


@email("big5_hkscs_characters")
def _hkscs() -> bytes:
    return single(
        "big5-hkscs", "街口啲路燈壞咗成個禮拜㗎，好危險。", "big5hkscs", subject="路燈壞咗"
    )


@email("alias_cn_big5")
def _cn_big5() -> bytes:
    return single("cn-big5", COMPLAINT_TW, "big5", subject="路燈壞了")


@email("hz_gb_2312_seven_bit")
def _hz() -> bytes:
    return message(
        common(
            "=?hz-gb-2312?Q?~{B75F~}?=",
            "laoshi@example.edu.cn",
            "hz@example.edu.cn",
            ("Content-Type", "text/plain; charset=HZ-GB-2312"),
            ("Content-Transfer-Encoding", "7bit"),
        ),
        COMPLAINT.encode("hz").replace(b"\n", CRLF),
    )


@email("alias_x_gbk")
def _x_gbk() -> bytes:
    return single("x-gbk", COMPLAINT, "gbk")


@email("alias_csgb2312")
def _csgb2312() -> bytes:
    return single("csgb2312", COMPLAINT, "gb2312")


@email("alias_windows_936")
def _windows_936() -> bytes:
    return single("windows-936", COMPLAINT, "gbk")


@email("alias_cp936")
def _cp936() -> bytes:
    return single("cp936", COMPLAINT, "gbk")


@email("alias_x_euc_cn")
def _x_euc_cn() -> bytes:
    return single("x-euc-cn", COMPLAINT, "gb2312")


@email("gb18030_four_byte_characters")
def _gb18030() -> bytes:
    return single(
        "GB18030", "我的名字里有生僻字𠀀，系统总是打不出来😀。", "gb18030", subject="生僻字𠀀"
    )


@email("mislabelled_utf8_declared_gb2312")
def _utf8_as_gb() -> bytes:
    return single("gb2312", COMPLAINT, "utf-8")


@email("mislabelled_gbk_declared_iso_8859_1")
def _gbk_as_latin1() -> bytes:
    return single("iso-8859-1", COMPLAINT, "gbk")


@email("mislabelled_gbk_declared_utf8")
def _gbk_as_utf8() -> bytes:
    return single("utf-8", COMPLAINT, "gbk")


@email("unknown_charset_label")
def _unknown() -> bytes:
    return single("x-chinese-unknown", COMPLAINT, "gbk")


@email("no_mime_headers_raw_gbk_body")
def _no_mime() -> bytes:
    return message(
        [
            ("From", "old@example.cn"),
            ("Subject", "no mime"),
            ("Date", DATE),
            ("Message-ID", "<nomime@example.cn>"),
        ],
        COMPLAINT.encode("gbk"),
    )


# --- Headers ----------------------------------------------------------------------------


@email("raw_8bit_gbk_headers")
def _raw_gbk_headers() -> bytes:
    return message(
        common(
            "路灯坏了一个星期".encode("gbk"),
            "王女士".encode("gbk") + b" <wang@example.cn>",
            "raw8bitgbk@example.cn",
            ("Content-Type", "text/plain; charset=gbk"),
            ("Content-Transfer-Encoding", "8bit"),
        ),
        COMPLAINT.encode("gbk"),
    )


@email("raw_8bit_utf8_headers")
def _raw_utf8_headers() -> bytes:
    return message(
        common(
            "路灯坏了一个星期".encode(),
            b'"\xe7\x8e\x8b\xe5\xa5\xb3\xe5\xa3\xab" <Wang@Example.CN>',
            "raw8bitutf8@example.cn",
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "8bit"),
        ),
        COMPLAINT.encode(),
    )


@email("raw_8bit_big5_headers_read_by_body_charset")
def _raw_big5_headers() -> bytes:
    return message(
        common(
            "路燈壞了".encode("big5"),
            "林先生".encode("big5") + b" <lin@example.com.tw>",
            "raw8bitbig5@example.com.tw",
            ("Content-Type", "text/plain; charset=big5"),
            ("Content-Transfer-Encoding", "8bit"),
        ),
        COMPLAINT_TW.encode("big5"),
    )


@email("encoded_words_split_characters_and_q")
def _split_words() -> bytes:
    data = "关于村里自来水停水的反映".encode()
    # Split inside a character, as Outlook and some webmails do for long subjects.
    first, second = base64.b64encode(data[:10]).decode(), base64.b64encode(data[10:]).decode()
    subject = f"=?UTF-8?B?{first}?=\r\n =?UTF-8?B?{second}?= {word('（急）', 'gbk', 'Q')}"
    return message(
        common(
            subject,
            f"{word('孙', 'utf-8', 'Q')} {word('红', 'utf-8', 'Q')} <SunHong@Example.com>",
            "splitwords@example.com",
            ("Content-Type", "text/plain; charset=utf-8"),
        ),
        "已经停水三天了。".encode(),
    )


@email("encoded_words_damaged_or_unterminated")
def _broken_word() -> bytes:
    return message(
        common(
            f"{word('投诉', 'utf-8')} =?utf-8?B?5L2g5aW9!!!?= =?nosuchcharset?B?1tDOxA==?="
            " =?utf-8?B?5pyq5a6M",
            "broken@example.com",
            "brokenword@example.com",
            ("Content-Type", "text/plain; charset=utf-8"),
        ),
        "正文".encode(),
    )


@email("message_ids_normalised")
def _ids() -> bytes:
    return message(
        [
            ("From", "=?utf-8?Q?Zhang_San?= <Zhang.San@Example.COM>"),
            ("Reply-To", "Other <Reply.Here@Example.COM>"),
            ("Subject", "Re: 您的诉求已受理"),
            ("Date", DATE),
            ("Message-ID", "bare-id-1234@example.com"),
            ("In-Reply-To", "<ack-20240105-000001@minqing.example.gov.cn> (from Minqing)"),
            (
                "References",
                "<first@example.com>\r\n\t<ack-20240105-000001@minqing.example.gov.cn>,\r\n"
                " <first@example.com>",
            ),
            ("Content-Type", "text/plain; charset=us-ascii"),
        ],
        b"Thank you.",
    )


@email("date_unreadable")
def _bad_date() -> bytes:
    headers = common("日期", "date@example.cn", "baddate@example.cn")
    headers = [(n, "2024年1月5日 上午10:00".encode() if n == "Date" else v) for n, v in headers]
    return message([*headers, ("Content-Type", "text/plain; charset=utf-8")], "正文".encode())


@email("bare_lf_line_endings")
def _bare_lf() -> bytes:
    return message(
        common(
            word("换行符", "utf-8"),
            "lf@example.cn",
            "barelf@example.cn",
            ("Content-Type", 'multipart/mixed; boundary="lf"'),
        ),
        (
            b"--lf\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
            + base64.encodebytes(COMPLAINT.encode())
            + b"\n--lf--\n"
        ),
        eol=b"\n",
    )


# --- Attachments ------------------------------------------------------------------------


def with_attachment(name: str, attachment: bytes, *, text: str = COMPLAINT) -> bytes:
    return message(
        common(
            word("附件", "gbk"),
            "attach@example.cn",
            f"{name}@example.cn",
            ("Content-Type", 'multipart/mixed; boundary="=_att"'),
        ),
        multipart("=_att", [text_part(text, "gbk"), attachment]),
    )


@email("rfc2231_continuations_gbk_filename_pdf")
def _rfc2231() -> bytes:
    name = "现场照片说明.pdf".encode("gbk")
    encoded = "".join(f"%{byte:02X}" for byte in name)
    return with_attachment(
        "rfc2231",
        part(
            [
                ("Content-Type", "application/pdf"),
                (
                    "Content-Disposition",
                    f"attachment;\r\n filename*0*=gbk''{encoded[:18]};\r\n"
                    f" filename*1*={encoded[18:]}",
                ),
                ("Content-Transfer-Encoding", "base64"),
            ],
            b64(pdf()),
        ),
    )


@email("outlook_encoded_word_in_quoted_filename")
def _outlook_name() -> bytes:
    name = word("投诉材料.pdf", "gb2312")
    return with_attachment(
        "encodedname",
        part(
            [
                ("Content-Type", f'application/pdf;\r\n\tname="{name}"'),
                ("Content-Disposition", f'attachment;\r\n\tfilename="{name}"'),
                ("Content-Transfer-Encoding", "base64"),
            ],
            b64(pdf()),
        ),
    )


@email("raw_8bit_utf8_filename")
def _raw_filename() -> bytes:
    return with_attachment(
        "rawname",
        part(
            [
                ("Content-Type", b'image/png; name="\xe7\x8e\xb0\xe5\x9c\xba.png"'),
                ("Content-Disposition", b'attachment; filename="\xe7\x8e\xb0\xe5\x9c\xba.png"'),
                ("Content-Transfer-Encoding", "base64"),
            ],
            b64(png()),
        ),
    )


@email("tnef_winmail_dat")
def _tnef() -> bytes:
    return with_attachment(
        "tnef",
        part(
            [
                ("Content-Type", 'application/ms-tnef; name="winmail.dat"'),
                ("Content-Disposition", 'attachment; filename="winmail.dat"'),
                ("Content-Transfer-Encoding", "base64"),
            ],
            b64(b"\x78\x9f\x3e\x22" + b"\x00" * 60),
        ),
    )


@email("inline_image_without_name")
def _inline_image() -> bytes:
    return with_attachment(
        "inlineimage",
        part(
            [
                ("Content-Type", "image/png"),
                ("Content-ID", "<image001.png@01DA3F2B.1A2B3C40>"),
                ("Content-Transfer-Encoding", "base64"),
            ],
            b64(png()),
        ),
    )


@email("smime_signed_signature_not_an_attachment")
def _signed() -> bytes:
    return message(
        common(
            "signed",
            "signed@example.cn",
            "signed@example.cn",
            (
                "Content-Type",
                'multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; '
                'boundary="sig"',
            ),
        ),
        multipart(
            "sig",
            [
                text_part(COMPLAINT, "utf-8"),
                part(
                    [
                        ("Content-Type", 'application/pkcs7-signature; name="smime.p7s"'),
                        ("Content-Disposition", 'attachment; filename="smime.p7s"'),
                        ("Content-Transfer-Encoding", "base64"),
                    ],
                    b64(b"0\x82\x01\x00" + b"\x01" * 40),
                ),
            ],
        ),
    )


@email("forwarded_message_rfc822_with_photo")
def _forwarded() -> bytes:
    inner = with_attachment(
        "inner",
        part(
            [
                ("Content-Type", 'image/png; name="photo.png"'),
                ("Content-Disposition", 'attachment; filename="photo.png"'),
                ("Content-Transfer-Encoding", "base64"),
            ],
            b64(png()),
        ),
        text="邻居反映：河道里有人倾倒建筑垃圾。",
    )
    return message(
        common(
            word("转发: 河道倾倒垃圾", "utf-8"),
            "forwarder@example.cn",
            "forwarded@example.cn",
            ("Content-Type", 'multipart/mixed; boundary="fwd"'),
        ),
        multipart(
            "fwd",
            [
                text_part("请看下面转发的邮件。", "utf-8"),
                part(
                    [
                        ("Content-Type", "message/rfc822"),
                        ("Content-Disposition", 'attachment; filename="forwarded.eml"'),
                    ],
                    inner,
                ),
            ],
        ),
    )


# --- Structure ----------------------------------------------------------------------------


@email("html_only_script_style_entities")
def _html_only() -> bytes:
    html = (
        "<!DOCTYPE html><html><head><title>标题不算正文</title>"
        "<script>alert('x'); document.write('脚本')</script>"
        "<style>body{color:red}</style></head><body>"
        "<h1>反映问题</h1><p>道路&lt;破损&gt; &amp; 积水&#65292;&#x8BF7;处理。</p>"
        "<ul><li>地点：东门</li><li>时间：每天</li></ul>"
        "<script type='text/javascript'>steal()</script>"
        "<table><tr><td>联系人</td><td>吴</td></tr></table>"
        '<a href="javascript:evil()">点这里</a><img src="x" onerror="evil()"></body></html>'
    )
    return message(
        common(
            "HTML only",
            "html@example.cn",
            "htmlonly@example.cn",
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Transfer-Encoding", "quoted-printable"),
        ),
        qp(html.encode()),
    )


@email("alternative_empty_plain_uses_html")
def _empty_plain() -> bytes:
    return message(
        common(
            "empty plain",
            "emptyplain@example.cn",
            "emptyplain@example.cn",
            ("Content-Type", 'multipart/alternative; boundary="alt"'),
        ),
        multipart(
            "alt",
            [
                text_part("\r\n \r\n", "utf-8"),
                text_part("<p>桥上的栏杆松了</p>", "utf-8", subtype="html"),
            ],
        ),
    )


@email("nested_mixed_related_alternative_outlook")
def _nested() -> bytes:
    alternative = part(
        [("Content-Type", 'multipart/alternative; boundary="alt-3"')],
        multipart(
            "alt-3",
            [
                text_part("公园的健身器材坏了。", "gb2312"),
                text_part(
                    '<p>公园的健身器材坏了。</p><img src="cid:image001.png">',
                    "gb2312",
                    subtype="html",
                ),
            ],
        ),
    )
    related = part(
        [("Content-Type", 'multipart/related; boundary="rel-2"; type="multipart/alternative"')],
        multipart(
            "rel-2",
            [
                alternative,
                part(
                    [
                        ("Content-Type", 'image/png; name="image001.png"'),
                        ("Content-Description", "image001.png"),
                        ("Content-Disposition", 'inline; filename="image001.png"'),
                        ("Content-ID", "<image001.png@01DA3F2B.1A2B3C40>"),
                        ("Content-Transfer-Encoding", "base64"),
                    ],
                    b64(png()),
                ),
            ],
        ),
    )
    pdf_part = part(
        [
            ("Content-Type", 'application/pdf; name="report.pdf"'),
            ("Content-Disposition", 'attachment; filename="report.pdf"'),
            ("Content-Transfer-Encoding", "base64"),
        ],
        b64(pdf()),
    )
    return message(
        common(
            word("健身器材", "gb2312"),
            "nested@example.cn",
            "nested@example.cn",
            ("Content-Type", 'multipart/mixed; boundary="mix-1"'),
        ),
        multipart("mix-1", [related, pdf_part]),
    )


def nest(levels: int, inner: bytes) -> bytes:
    for level in range(levels):
        boundary = f"n{level}"
        inner = part(
            [("Content-Type", f'multipart/mixed; boundary="{boundary}"')],
            multipart(boundary, [inner]),
        )
    return inner


@email("deeply_nested_multipart_cut_at_limit")
def _deep() -> bytes:
    body = nest(40, text_part("藏在最里面", "utf-8"))
    return message(
        common(
            "deep",
            "deep@example.cn",
            "deep@example.cn",
            ("Content-Type", 'multipart/mixed; boundary="top"'),
        ),
        multipart("top", [text_part("最外层的正文", "utf-8"), body]),
    )


@email("pathologically_nested_multipart")
def _very_deep() -> bytes:
    return (
        message(
            common("very deep", "verydeep@example.cn", "verydeep@example.cn"),
            b"",
        )[:-4]
        + CRLF
        + nest(1200, text_part("x", "utf-8"))
    )


@email("missing_boundary_parameter")
def _no_boundary() -> bytes:
    return message(
        common(
            "no boundary",
            "noboundary@example.cn",
            "noboundary@example.cn",
            ("Content-Type", "multipart/mixed"),
        ),
        multipart(
            "----=_Part_0_1",
            [
                text_part("市场门口乱停车。", "utf-8"),
                part(
                    [
                        ("Content-Type", 'image/png; name="car.png"'),
                        ("Content-Transfer-Encoding", "base64"),
                    ],
                    b64(png()),
                ),
            ],
        ),
    )


@email("wrong_boundary_parameter")
def _wrong_boundary() -> bytes:
    return message(
        common(
            "wrong boundary",
            "wrongboundary@example.cn",
            "wrongboundary@example.cn",
            ("Content-Type", 'multipart/alternative; boundary="declared-but-never-used"'),
        ),
        multipart(
            "actually-used",
            [
                text_part("学校门口没有红绿灯。", "gbk"),
                text_part("<p>学校门口没有红绿灯。</p>", "gbk", subtype="html"),
            ],
        ),
    )


@email("truncated_in_attachment")
def _truncated() -> bytes:
    full = message(
        common(
            "truncated",
            "truncated@example.cn",
            "truncated@example.cn",
            ("Content-Type", 'multipart/mixed; boundary="tr"'),
        ),
        multipart(
            "tr",
            [
                text_part("附件是现场照片。", "utf-8"),
                part(
                    [
                        ("Content-Type", 'application/pdf; name="big.pdf"'),
                        ("Content-Disposition", 'attachment; filename="big.pdf"'),
                        ("Content-Transfer-Encoding", "base64"),
                    ],
                    b64(pdf() * 4),
                ),
            ],
        ),
    )
    return full[: len(full) * 3 // 4 + 1]


@email("truncated_in_headers")
def _truncated_headers() -> bytes:
    return b"From: cut@example.cn\r\nSubject: =?utf-8?B?5oiq5pat?=\r\nContent-Type: text/pla"


@email("bad_base64_body")
def _bad_base64() -> bytes:
    data = base64.b64encode(COMPLAINT.encode())
    broken = data[:20] + b"!!\xff##" + data[20:] + b"==="
    return message(
        common(
            "bad base64",
            "badbase64@example.cn",
            "badbase64@example.cn",
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "base64"),
        ),
        broken[:-7],
    )


@email("bad_quoted_printable_body")
def _bad_qp() -> bytes:
    data = qp(COMPLAINT.encode())
    return message(
        common(
            "bad qp",
            "badqp@example.cn",
            "badqp@example.cn",
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "quoted-printable"),
        ),
        b"=ZZ=G1 " + data + b"=\r\n=E5",
    )


@email("empty_body")
def _empty() -> bytes:
    return message(common("空邮件", "empty@example.cn", "empty@example.cn"), b"")


# --- Replies ------------------------------------------------------------------------------

ACK_ID = "ack-20240105-000001@minqing.example.gov.cn"


def reply(
    name: str, sender: str, body: str, charset: str = "utf-8", subtype: str = "plain"
) -> bytes:
    return message(
        common(
            word("回复：您的诉求已受理，编号20240105-000001", charset),
            sender,
            f"{name}@example.cn",
            ("In-Reply-To", f"<{ACK_ID}>"),
            ("References", f"<{ACK_ID}>"),
            ("Content-Type", f"text/{subtype}; charset={charset}"),
            ("Content-Transfer-Encoding", "base64"),
        ),
        b64(body.replace("\n", "\r\n").encode(charset)),
    )


@email("reply_qq_mail_original_banner")
def _reply_qq() -> bytes:
    return reply(
        "replyqq",
        "123456789@qq.com",
        "补充一下：路灯在3号楼东侧。\n\n\n"
        "------------------&nbsp;原始邮件&nbsp;------------------\n".replace("&nbsp;", "\u00a0")
        + '发件人: "民情12345" <12345@minqing.example.gov.cn>;\n'
        "发送时间: 2024年1月5日(星期五) 上午10:00\n"
        "主题: 您的诉求已受理\n\n您的诉求已受理，编号20240105-000001。",
        "gb18030",
    )


@email("reply_apple_mail_chinese_wrote")
def _reply_apple() -> bytes:
    return reply(
        "replyapple",
        "zhouli@icloud.com",
        "谢谢，路灯今天还是不亮。\n\n"
        "> 2024年1月5日 10:00，民情12345 <12345@minqing.example.gov.cn> 写道：\n"
        ">\n> 您的诉求已受理，编号20240105-000001。\n",
    )


@email("reply_163_wrote_line")
def _reply_163() -> bytes:
    return reply(
        "reply163",
        "zhaogang@163.com",
        "噪音问题昨晚依旧。\n\n"
        '在 2024-01-05 10:00:00，"民情12345" <12345@minqing.example.gov.cn> 写道：\n'
        "> 您的诉求已受理，编号20240105-000001。\n",
        "gbk",
    )


@email("reply_gmail_english_wrote_wrapped")
def _reply_gmail() -> bytes:
    return reply(
        "replygmail",
        "citizen@gmail.com",
        "The light is still broken.\n\n"
        "On Fri, Jan 5, 2024 at 10:00 AM Minqing 12345 <\n"
        "12345@minqing.example.gov.cn> wrote:\n\n"
        "> Your case 20240105-000001 was received.\n",
    )


@email("reply_outlook_from_sent_block")
def _reply_outlook() -> bytes:
    return reply(
        "replyoutlook",
        "chen@company.com.cn",
        "下水道今天已经疏通，谢谢。\n\n"
        "________________________________\n"
        "发件人: 民情12345 <12345@minqing.example.gov.cn>\n"
        "发送时间: 2024年1月5日 10:00\n"
        "主题: 您的诉求已受理\n",
        "gb2312",
    )


@email("reply_qq_mail_html_only")
def _reply_qq_html() -> bytes:
    return reply(
        "replyqqhtml",
        "123456789@qq.com",
        '<meta http-equiv="Content-Type" content="text/html; charset=GB18030">'
        "<div>垃圾今天还没清走。</div><div><br></div>"
        '<div style="font-size: 12px;font-family: Arial Narrow;padding:2px 0 2px 0;">'
        "------------------&nbsp;原始邮件&nbsp;------------------</div>"
        '<div style="font-size: 12px;background:#efefef;padding:8px;">'
        '<div><b>发件人:</b>&nbsp;"民情12345"&lt;12345@minqing.example.gov.cn&gt;;</div>'
        "<div><b>发送时间:</b>&nbsp;2024年1月5日(星期五) 上午10:00</div></div>"
        "<div>您的诉求已受理。</div>",
        "gb18030",
        "html",
    )


@email("reply_outlook_html_from_sent_block")
def _reply_outlook_html() -> bytes:
    return reply(
        "replyoutlookhtml",
        "chen@company.com.cn",
        "<html><head><style>p.MsoNormal{margin:0}</style></head><body>"
        "<p class=MsoNormal>好的，明天上午有人在家。<o:p></o:p></p>"
        "<p class=MsoNormal><o:p>&nbsp;</o:p></p>"
        "<div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'>"
        "<p class=MsoNormal><b>发件人<span lang=EN-US>:</span></b><span lang=EN-US> 民情12345 "
        "&lt;12345@minqing.example.gov.cn&gt; <br></span><b>发送时间<span lang=EN-US>:"
        "</span></b><span lang=EN-US> 2024年1月5日 10:00<br></span><b>主题<span lang=EN-US>:"
        "</span></b> 您的诉求已受理</p></div><p class=MsoNormal>您的诉求已受理。</p>"
        "</body></html>",
        "gb2312",
        "html",
    )


# --- Automated mail -----------------------------------------------------------------------


def report(report_type: str, human: str, machine: bytes, *headers: Header) -> bytes:
    original = message(
        common("路灯坏了", OUR_ADDRESS, "ack-original@minqing.example.gov.cn"), b"..."
    )
    return message(
        [
            *headers,
            ("Date", DATE),
            ("Message-ID", f"<{report_type}-report@example.net>"),
            ("MIME-Version", "1.0"),
            (
                "Content-Type",
                f'multipart/report; report-type={report_type};\r\n\tboundary="rep"',
            ),
        ],
        multipart(
            "rep",
            [
                text_part(human, "utf-8", "8bit"),
                part([("Content-Type", f"message/{report_type}")], machine),
                part([("Content-Type", "message/rfc822")], original),
            ],
        ),
    )


@email("bounce_postfix_dsn")
def _postfix() -> bytes:
    return report(
        "delivery-status",
        "This is the mail system at host mx.example.net.\n\nI'm sorry to have to inform you"
        " that your message could not be delivered.",
        b"Reporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; nobody@example.cn"
        b"\r\nAction: failed\r\nStatus: 5.1.1\r\n",
        ("From", "MAILER-DAEMON@mx.example.net (Mail Delivery System)"),
        ("To", OUR_ADDRESS),
        ("Subject", "Undelivered Mail Returned to Sender"),
        ("Auto-Submitted", "auto-replied"),
    )


@email("bounce_exchange_ndr")
def _exchange() -> bytes:
    return report(
        "delivery-status",
        "Delivery has failed to these recipients or groups:",
        b"Reporting-MTA: dns;EX01.company.com.cn\r\n\r\nFinal-Recipient: rfc822;x@company.com.cn"
        b"\r\nAction: failed\r\nStatus: 5.1.10\r\n",
        ("From", "Microsoft Outlook <postmaster@company.com.cn>"),
        ("To", OUR_ADDRESS),
        ("Subject", "Undeliverable: 您的诉求已受理"),
        ("X-MS-Exchange-Message-Is-Ndr", ""),
        ("Auto-Submitted", "auto-replied"),
    )


@email("bounce_qq_plain_text_postmaster")
def _qq_bounce() -> bytes:
    return message(
        [
            ("From", f"{word('系统退信', 'gb18030')} <PostMaster@qq.com>"),
            ("To", OUR_ADDRESS),
            ("Subject", word("系统退信", "gb18030")),
            ("Date", DATE),
            ("Message-ID", "<bounce@qq.com>"),
            ("Content-Type", "text/plain; charset=gb18030"),
        ],
        "抱歉，您的邮件被退回来了。收件人邮箱不存在。".encode("gb18030"),
    )


@email("bounce_null_return_path_163")
def _null_sender() -> bytes:
    return message(
        [
            ("Return-Path", "<>"),
            ("From", "Mail Delivery Subsystem <deliver@163.com>"),
            ("To", OUR_ADDRESS),
            ("Subject", word("退信通知", "utf-8")),
            ("Date", DATE),
            ("Content-Type", "text/plain; charset=utf-8"),
        ],
        "邮件无法投递。".encode(),
    )


@email("bounce_exim_failed_recipients")
def _exim() -> bytes:
    return message(
        [
            ("From", "Mail Delivery System <Mailer-Daemon@mail.example.org>"),
            ("X-Failed-Recipients", "nobody@example.org"),
            ("To", OUR_ADDRESS),
            ("Subject", "Mail delivery failed: returning message to sender"),
            ("Date", DATE),
        ],
        b"This message was created automatically by mail delivery software.",
    )


@email("read_receipt_mdn")
def _mdn() -> bytes:
    return report(
        "disposition-notification",
        "您发送的邮件已被阅读。",
        b"Reporting-UA: Foxmail\r\nFinal-Recipient: rfc822; wang@example.cn\r\n"
        b"Disposition: manual-action/MDN-sent-manually; displayed\r\n",
        ("From", "wang@example.cn"),
        ("To", OUR_ADDRESS),
        ("Subject", word("已读: 您的诉求已受理", "utf-8")),
    )


def auto(
    name: str, subject: str, *headers: Header, body: str = "我正在休假，1月10日后回复。"
) -> bytes:
    return message(
        common(
            subject,
            "leader@example.gov.cn",
            f"{name}@example.gov.cn",
            *headers,
            ("Content-Type", "text/plain; charset=utf-8"),
        ),
        body.encode(),
    )


@email("vacation_gmail_auto_submitted")
def _gmail_vacation() -> bytes:
    return auto("gmailvacation", "Re: 您的诉求已受理", ("Auto-Submitted", "auto-replied"))


@email("vacation_exchange_oof")
def _exchange_oof() -> bytes:
    return auto(
        "exchangeoof",
        word("自动答复: 您的诉求已受理", "gb2312"),
        ("X-Auto-Response-Suppress", "All"),
        ("Auto-Submitted", "auto-generated"),
    )


@email("vacation_x_autoreply_yes")
def _x_autoreply_vacation() -> bytes:
    return auto("xautoreply", word("自动回复：您的诉求已受理", "utf-8"), ("X-Autoreply", "yes"))


@email("vacation_subject_only")
def _subject_only() -> bytes:
    return auto("subjectonly", word("自动回复: 您的诉求已受理", "gb18030"))


@email("vacation_precedence_auto_reply")
def _precedence_auto() -> bytes:
    return auto("precedenceauto", "Out of Office: case", ("Precedence", "auto_reply"))


@email("newsletter_precedence_bulk")
def _bulk() -> bytes:
    return auto("bulk", "本周优惠", ("Precedence", "bulk"), body="全场五折。")


@email("mailing_list_list_id")
def _list() -> bytes:
    return auto(
        "list",
        "[county-news] 通知",
        ("List-Id", "County news <county-news.lists.example.gov.cn>"),
        ("List-Unsubscribe", "<mailto:leave@lists.example.gov.cn>"),
        body="本周会议安排。",
    )


@email("our_own_acknowledgement")
def _ack() -> bytes:
    return message(
        [
            ("From", f"{word('民情12345', 'utf-8')} <{OUR_ADDRESS}>"),
            ("To", "wang@example.cn"),
            ("Subject", word("您的诉求已受理，编号20240105-000001", "utf-8")),
            ("Date", DATE),
            ("Message-ID", f"<{ACK_ID}>"),
            ("Auto-Submitted", "auto-replied"),
            ("X-Minqing-Acknowledgement", "20240105-000001"),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "base64"),
        ],
        b64("您的诉求已受理，编号20240105-000001，查询码R7K2QX。".encode()),
    )


@email("mail_loop_many_received")
def _loop() -> bytes:
    hops = [
        ("Received", f"from mx{i}.example.net by mx{i + 1}.example.net; {DATE}") for i in range(40)
    ]
    return message(
        [*hops, *common("loop", "looping@example.net", "loop@example.net")], "转来转去".encode()
    )


@email("auto_submitted_no_is_a_person")
def _auto_no() -> bytes:
    return auto("autono", word("路灯", "utf-8"), ("Auto-Submitted", "no"), body=COMPLAINT)


def build(target: Path = HERE) -> dict[str, bytes]:
    """Every message of the corpus by file name; written into `target` too."""
    built = {f"{name}.eml": make() for name, make in CORPUS.items()}
    for filename, data in built.items():
        (target / filename).write_bytes(data)
    return built


if __name__ == "__main__":
    written = build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
    print(f"{len(written)} messages written")
