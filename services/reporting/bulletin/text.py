"""The bulletin as the county publishes it: a title and a few sentences of figures.

Chinese by default, English on request; each sentence is a small function of the content, so a
missing figure (a rate over no cases) drops a clause instead of printing "None".
"""

from __future__ import annotations

from datetime import date

from services.kernel.language import Language
from services.reporting.bulletin.content import Bulletin, DepartmentShare, Share

CHANNELS_ZH = {
    "hotline": "热线电话",
    "email": "电子邮件",
    "web": "网上诉求",
    "open311": "Open311 应用",
    "visit": "走访收集",
    "sms": "短信",
}
# Singular and plural, as "1 hotline call", "70 hotline calls".
CHANNELS_EN = {
    "hotline": ("hotline call", "hotline calls"),
    "email": ("email", "emails"),
    "web": ("web request", "web requests"),
    "open311": ("Open311 request", "Open311 requests"),
    "visit": ("request taken on a visit", "requests taken on visits"),
    "sms": ("text message", "text messages"),
}


def bulletin_text(bulletin: Bulletin, language: Language = "zh") -> str:
    """The whole bulletin: a title line, a blank line, then one paragraph per line."""
    return "\n\n".join([title(bulletin, language), "\n".join(paragraphs(bulletin, language))])


def title(bulletin: Bulletin, language: Language) -> str:
    if language == "en":
        return f"Minqing 12345 bulletin, {period_en(bulletin.first, bulletin.last)}"
    return f"民情 12345 诉求办理通报（{period_zh(bulletin.first, bulletin.last)}）"


def paragraphs(bulletin: Bulletin, language: Language) -> list[str]:
    """The bulletin's paragraphs, those with nothing to say left out."""
    if language == "en":
        found = [
            received_en(bulletin),
            handling_en(bulletin),
            resolution_en(bulletin),
            escalation_en(bulletin),
            rates_en(bulletin),
            categories_en(bulletin.top_categories),
            departments_en(bulletin.top_departments),
        ]
    else:
        found = [
            received_zh(bulletin),
            handling_zh(bulletin),
            resolution_zh(bulletin),
            escalation_zh(bulletin),
            rates_zh(bulletin),
            categories_zh(bulletin.top_categories),
            departments_zh(bulletin.top_departments),
        ]
    return [paragraph for paragraph in found if paragraph]


def number(value: int) -> str:
    """A count as bulletins print it: 12,500."""
    return f"{value:,}"


def percent(rate: float) -> str:
    """A rate as a percentage to one decimal, without a trailing ".0": 75%, 66.7%."""
    shown = f"{rate * 100:.1f}"
    return f"{shown.removesuffix('.0')}%"


def hours(value: float) -> str:
    return f"{value:.1f}"


def period_zh(first: date, last: date) -> str:
    start = f"{first.year}年{first.month}月{first.day}日"
    if first == last:
        return start
    if (first.year, first.month) == (last.year, last.month):
        return f"{start}至{last.day}日"
    if first.year == last.year:
        return f"{start}至{last.month}月{last.day}日"
    return f"{start}至{last.year}年{last.month}月{last.day}日"


def period_en(first: date, last: date) -> str:
    if first == last:
        return f"{first.day} {first:%B %Y}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%B %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%B} – {last.day} {last:%B %Y}"
    return f"{first.day} {first:%B %Y} – {last.day} {last:%B %Y}"


def plural(count: int, one: str, many: str) -> str:
    return f"{number(count)} {one if count == 1 else many}"


def _channel_zh(share: Share) -> str:
    return f"{CHANNELS_ZH.get(share.key or '', share.key or '其他渠道')}{number(share.count)}件"


def _channel_en(share: Share) -> str:
    one, many = CHANNELS_EN.get(share.key or "", (f"via {share.key or 'other channels'}",) * 2)
    return plural(share.count, one, many)


def received_zh(bulletin: Bulletin) -> str:
    total = bulletin.count("received")
    if total == 0:
        return "本期未受理群众诉求。"
    channels = "、".join(_channel_zh(share) for share in bulletin.by_channel)
    return f"本期共受理群众诉求{number(total)}件" + (f"，其中{channels}。" if channels else "。")


def received_en(bulletin: Bulletin) -> str:
    total = bulletin.count("received")
    if total == 0:
        return "No requests were received."
    channels = ", ".join(_channel_en(share) for share in bulletin.by_channel)
    received = f"{plural(total, 'request', 'requests')} received"
    return f"{received}: {channels}." if channels else f"{received}."


def handling_zh(bulletin: Bulletin) -> str:
    answered, sent = bulletin.count("answered_directly"), bulletin.count("dispatched")
    accepted, returned = bulletin.count("accepted"), bulletin.count("returned")
    return (
        f"当场解答{number(answered)}件，交办部门{number(sent)}件，"
        f"部门签收{number(accepted)}件，退单{number(returned)}件。"
    )


def handling_en(bulletin: Bulletin) -> str:
    answered, sent = bulletin.count("answered_directly"), bulletin.count("dispatched")
    accepted, returned = bulletin.count("accepted"), bulletin.count("returned")
    return (
        f"{number(answered)} answered on the spot, {number(sent)} dispatched to departments, "
        f"{number(accepted)} signed for, {number(returned)} returned."
    )


def resolution_zh(bulletin: Bulletin) -> str:
    received, resolved = bulletin.count("received"), bulletin.count("resolved")
    parts = []
    if received:
        parts.append(
            f"本期受理的{number(received)}件诉求中已办结{number(bulletin.received_resolved)}件"
        )
    clause = f"本期共办结{number(resolved)}件"
    on_time = bulletin.measure("on_time_rate")
    if on_time == 1.0:
        clause += "，全部按期办结"
    elif on_time is not None:
        clause += f"，按期办结率{percent(on_time)}"
    average = bulletin.measure("average_handling_hours")
    if average is not None:
        clause += f"，平均办理时长{hours(average)}小时"
    parts.append(clause)
    return "；".join(parts) + "。"


def resolution_en(bulletin: Bulletin) -> str:
    received, resolved = bulletin.count("received"), bulletin.count("resolved")
    parts = []
    if received:
        of_them = number(bulletin.received_resolved)
        parts.append(
            f"of the {plural(received, 'request', 'requests')} received, {of_them} resolved"
        )
    clause = f"{number(resolved)} resolved in the period"
    on_time = bulletin.measure("on_time_rate")
    if on_time == 1.0:
        clause += ", every one on time"
    elif on_time is not None:
        clause += f", {percent(on_time)} on time"
    average = bulletin.measure("average_handling_hours")
    if average is not None:
        clause += f", in {hours(average)} hours on average"
    parts.append(clause)
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


def escalation_zh(bulletin: Bulletin) -> str:
    overdue, urged = bulletin.count("overdue"), bulletin.count("urged")
    supervised = bulletin.count("supervised")
    if not (overdue or urged or supervised):
        return "本期无超期、催办、督办诉求。"
    return f"超期{number(overdue)}件，催办{number(urged)}件，督办{number(supervised)}件。"


def escalation_en(bulletin: Bulletin) -> str:
    overdue, urged = bulletin.count("overdue"), bulletin.count("urged")
    supervised = bulletin.count("supervised")
    if not (overdue or urged or supervised):
        return "None overdue, urged or supervised."
    return f"{number(overdue)} overdue, {number(urged)} urged, {number(supervised)} supervised."


# The three rates leaders are judged on (三率), in the order bulletins give them.
RATES = (
    ("response_rate", "响应率", "response rate"),
    ("resolution_rate", "办结率", "resolution rate"),
    ("satisfaction_rate", "满意率", "satisfaction rate"),
)


def rates_zh(bulletin: Bulletin) -> str:
    shown = [
        f"{zh}{percent(rate)}"
        for name, zh, _ in RATES
        if (rate := bulletin.measure(name)) is not None
    ]
    return "，".join(shown) + "。" if shown else ""


def rates_en(bulletin: Bulletin) -> str:
    shown = [
        f"{en} {percent(rate)}"
        for name, _, en in RATES
        if (rate := bulletin.measure(name)) is not None
    ]
    if not shown:
        return ""
    sentence = ", ".join(shown)
    return sentence[0].upper() + sentence[1:] + "."


def categories_zh(categories: list[Share]) -> str:
    if not categories:
        return ""
    return (
        "群众反映较多的问题："
        + "、".join(f"{c.key}（{number(c.count)}件）" for c in categories)
        + "。"
    )


def categories_en(categories: list[Share]) -> str:
    if not categories:
        return ""
    return "Most raised: " + ", ".join(f"{c.key} ({number(c.count)})" for c in categories) + "."


def department_name(department: DepartmentShare) -> str:
    return department.name or department.code


def departments_zh(departments: list[DepartmentShare]) -> str:
    if not departments:
        return ""
    named = "、".join(
        f"{department_name(d)}（交办{number(d.dispatched)}件，办结{number(d.resolved)}件）"
        for d in departments
    )
    return f"交办较多的部门：{named}。"


def departments_en(departments: list[DepartmentShare]) -> str:
    if not departments:
        return ""
    named = ", ".join(
        f"{department_name(d)} ({number(d.dispatched)} dispatched, {number(d.resolved)} resolved)"
        for d in departments
    )
    return f"Departments dispatched to most: {named}."
