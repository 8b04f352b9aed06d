"""The email channel: mail received by SMTP or fetched by IMAP becomes a case, or joins one."""
