"""The email door: notices by email for people on neither Slack nor Teams (or who chose it).

Outbound only. `render` words neutral replies as a plain-text and an HTML body;
`sender.EmailSender` delivers outbox messages through a backend (`backends`: SMTP or
GOV.UK Notify); `routes` serves the unsubscribe link every email carries.
"""
