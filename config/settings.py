"""One typed settings object, read from the environment and `.env`.

Every name in SPEC "Configuration" is here. Secrets are `SecretStr` so they
never end up in a log line or a traceback by accident.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me"

log = logging.getLogger(__name__)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["local", "test", "production"] = "local"
    database_url: str = "sqlite:///sprachpool.db"
    public_base_url: str = "http://127.0.0.1:8000"
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET)
    timezone: str = "Europe/Berlin"

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None
    twilio_messaging_service_sid: str | None = None
    #: Only for tests and local stand-ins: where the Twilio REST API lives.
    twilio_api_base: str | None = None

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "sprachpool@localhost"
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"

    #: Where coordinator alerts go (unfilled requests, late cancellations).
    coordinator_email: str | None = None
    coordinator_phone: str | None = None

    #: Run the scheduler and the outbox worker inside `serve` (off in some tests).
    run_background_jobs: bool = True
    #: How often the scheduler looks for due deadlines and for messages to send.
    deadline_poll_seconds: float = Field(default=5.0, gt=0, le=300)
    outbox_poll_seconds: float = Field(default=2.0, gt=0, le=300)
    #: Largest request body the API accepts, in bytes.
    max_body_bytes: int = 256 * 1024

    @model_validator(mode="after")
    def _secrets_are_not_defaults(self) -> Settings:
        if self.secret_key.get_secret_value() == DEFAULT_SECRET:
            message = "SECRET_KEY is the default; set a long random value before production use"
            if self.environment == "production":
                raise ValueError(message)
            if self.environment == "local":
                log.warning(message)
        ZoneInfo(self.timezone)  # fails fast on a typo
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sms_configured(self) -> bool:
        return bool(
            self.twilio_account_sid
            and self.twilio_auth_token
            and (self.twilio_from or self.twilio_messaging_service_sid)
        )

    @property
    def email_configured(self) -> bool:
        return bool(self.smtp_host)


@lru_cache
def get_settings() -> Settings:
    return Settings()
