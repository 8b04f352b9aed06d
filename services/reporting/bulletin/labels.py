"""The names of figures and case-list columns in both languages, for tables and spreadsheets."""

from __future__ import annotations

from services.kernel.language import Language

FIGURE_LABELS: dict[str, tuple[str, str]] = {
    "received": ("受理诉求", "received"),
    "accepted": ("部门签收", "signed for"),
    "answered_directly": ("当场解答", "answered directly"),
    "dispatched": ("交办部门", "dispatched"),
    "returned": ("退单", "returned"),
    "resolved": ("办结", "resolved"),
    "closed": ("结案", "closed"),
    "backlog": ("期末未办结", "backlog at the end"),
    "backlog_average_age_days": ("未办结诉求平均已等待（天）", "backlog's average age (days)"),
    "backlog_oldest_age_days": ("未办结诉求最长已等待（天）", "backlog's oldest age (days)"),
    "overdue": ("超期", "overdue"),
    "urged": ("催办", "urged"),
    "supervised": ("督办", "supervised"),
    "on_time_rate": ("按期办结率", "on-time rate"),
    "average_handling_hours": ("平均办理时长（小时）", "average handling (hours)"),
    "p90_handling_hours": ("九成办结用时（小时）", "90th percentile handling (hours)"),
    "return_rate": ("退单率", "return rate"),
    "rehandle_rate": ("重办率", "re-handle rate"),
    "satisfaction_rate": ("满意率", "satisfaction rate"),
    "response_rate": ("响应率", "response rate"),
    "resolution_rate": ("办结率", "resolution rate"),
    "messages_sent": ("发出短信和邮件", "messages sent"),
    "messages_delivered": ("送达短信和邮件", "messages delivered"),
    "delivery_rate": ("送达率", "delivery rate"),
}

CASE_COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "tracking_no": ("受理编号", "tracking number"),
    "channel": ("渠道", "channel"),
    "kind": ("类型", "kind"),
    "category": ("类别", "category"),
    "department_code": ("部门代码", "department code"),
    "department_name": ("承办部门", "department"),
    "status": ("状态", "status"),
    "submitted_at": ("受理时间", "submitted"),
    "dispatched_at": ("交办时间", "dispatched"),
    "accepted_at": ("签收时间", "signed for"),
    "resolved_at": ("办结时间", "resolved"),
    "closed_at": ("结案时间", "closed"),
    "deadline": ("办理期限", "deadline"),
    "resolved_on_time": ("按期办结", "resolved on time"),
}


def label(labels: dict[str, tuple[str, str]], key: str, language: Language) -> str:
    """The name of `key`; a figure added since these names were written shows its own key."""
    zh, en = labels.get(key, (key, key))
    return en if language == "en" else zh


def is_rate(name: str) -> bool:
    return name.endswith("_rate")
