"""Notifications: channels (Twilio SMS, SMTP email, log), templates, SMS helpers.

This package knows nothing about the database: the outbox worker in
``dispatch/`` renders messages with :func:`notifications.templates.render`,
stores them, and later hands an :class:`~notifications.channels.OutgoingMessage`
to a :class:`~notifications.channels.Channel`. See ``notifications/README.md``.
"""
