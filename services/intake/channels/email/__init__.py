"""The email channel: mail received by SMTP or fetched by IMAP becomes a case, or joins one."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.kernel.runtime import ServiceRuntime


def start(runtime: ServiceRuntime) -> None:
    """Start what the settings ask for (the SMTP receiver, the IMAP poller); stop them with the
    runtime."""
    from services.intake.channels.email.imap import ImapPoller
    from services.intake.channels.email.smtp import SmtpReceiver

    settings = runtime.settings
    if settings.smtp_port is not None:
        receiver = SmtpReceiver(runtime.work, settings)
        receiver.start()
        runtime.on_stop(receiver.stop)
    if settings.imap_url is not None:
        poller = ImapPoller(runtime.work, settings)
        poller.start()
        runtime.on_stop(poller.stop)
