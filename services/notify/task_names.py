"""Notify's Celery task names, apart from the tasks: code that records messages queues them by
name without importing the sending machinery (which imports it back)."""

SEND_MESSAGES = "notify.send_messages"
