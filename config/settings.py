"""One typed settings object, read from the environment and `.env`.

Every name in SPEC "Configuration" is here. Secrets are `SecretStr` so they
never end up in a log line or a traceback by accident.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me"
DEFAULT_SECRET_WARNING = "SECRET_KEY is the default; set a long random value before production use"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["local", "test", "production"] = "local"
    database_url: str = "sqlite:///sprachpool.db"
    public_base_url: str = "http://127.0.0.1:8000"
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET)
    timezone: str = "Europe/Berlin"
    #: The pool's allowance rules (Aufwandsentschädigung): the default or a preset
    #: in config/allowance_presets/, or a deployment's own file.
    allowance_file: Path = Path(__file__).parent / "allowance.toml"

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

    #: A Nominatim-compatible search API (e.g. https://nominatim.openstreetmap.org, or
    #: your own instance). Unset: addresses cannot be typed; people pick a place or a point.
    geocoder_url: str | None = None
    #: Nominatim's usage policy asks every application to name itself.
    geocoder_user_agent: str = "sprachpool"
    geocoder_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    #: ISO 3166 codes the search is limited to (comma-separated); empty for none.
    geocoder_country_codes: str = "de"
    #: The area the pool serves (default: Beckum and around); matches outside are flagged.
    pool_centre_lat: float = Field(default=51.7556, ge=-90, le=90)
    pool_centre_lon: float = Field(default=8.0408, ge=-180, le=180)
    pool_radius_km: float = Field(default=30.0, gt=0, le=500)
    #: Points given to the API or the pages (places, homes, a request's point) farther than
    #: this from the pool's centre are refused: a swapped latitude and longitude, a point
    #: from another country, a geocoder's stray match. Generous, unlike POOL_RADIUS_KM,
    #: which only flags: a home in the next region is fine, one 500 km away a typo.
    point_max_distance_km: float = Field(default=300.0, gt=0, le=20_000)
    #: Days after a request's end when its personal data are erased: the contact, the notes,
    #: the connection, and a home visit's street and point (``requests/scheduled.py``).
    request_data_days: int = Field(default=90, ge=1, le=3650)
    #: Days after a staff account is deactivated when its name and address are erased
    #: (``users/scheduled.py``), once no open request needs it; invited back, it stays.
    staff_data_days: int = Field(default=180, ge=1, le=3650)
    #: Days after a mediator is taken out of the pool (`active` false) when their data are
    #: erased as by the coordinator's "erase" (``mediators/scheduled.py``), once nothing is
    #: owed to them; taken back in, they stay. A year: the last year's allowances can still
    #: be looked up by name while the person may ask for them.
    mediator_data_days: int = Field(default=365, ge=1, le=3650)

    #: How many working (not revoked) API tokens a staff member may hold when they make
    #: one on their account page (`/account`): each is a key to the API, and one left in
    #: a forgotten script keeps working until revoked, so at the limit the page asks them
    #: to revoke one first. `sprachpool user add` (an administrator's tool) is not limited.
    max_api_tokens_per_user: int = Field(default=5, ge=1, le=100)

    #: Where coordinator alerts go (unfilled requests, late cancellations).
    coordinator_email: str | None = None
    coordinator_phone: str | None = None

    #: Run the scheduler and the outbox worker inside `serve` (off in some tests).
    run_background_jobs: bool = True
    #: How often the scheduler looks for due deadlines and for messages to send.
    deadline_poll_seconds: float = Field(default=5.0, gt=0, le=300)
    outbox_poll_seconds: float = Field(default=2.0, gt=0, le=300)
    #: How often SQLite's query planner statistics are refreshed (``storage.refresh_statistics``).
    statistics_hours: float = Field(default=24.0, gt=0, le=24 * 7)
    #: The funding policy (categories served, notice, funding sources); None: config/funding.toml.
    funding_policy_path: Path | None = None
    #: Largest request body the API accepts, in bytes.
    max_body_bytes: int = 256 * 1024
    #: Tests only (ENVIRONMENT=test): the service's clock starts at this instant and
    #: runs at real speed, so a real `serve` process in a test lives on a fixed day.
    clock_start: datetime | None = None

    @model_validator(mode="after")
    def _secrets_are_not_defaults(self) -> Settings:
        if (
            self.secret_key.get_secret_value() == DEFAULT_SECRET
            and self.environment == "production"
        ):
            raise ValueError(f"{DEFAULT_SECRET_WARNING}; refusing to start in production")
        if self.clock_start is not None:
            if self.environment != "test":
                raise ValueError("CLOCK_START is for tests only (ENVIRONMENT=test)")
            if self.clock_start.tzinfo is None:
                raise ValueError("CLOCK_START needs a timezone offset")
        ZoneInfo(self.timezone)  # fails fast on a typo
        if self.point_max_distance_km < self.pool_radius_km:
            raise ValueError(
                "POINT_MAX_DISTANCE_KM must be at least POOL_RADIUS_KM: points in the pool's "
                "own area would be refused"
            )
        if not self.allowance_file.is_file():
            raise ValueError(f"ALLOWANCE_FILE {self.allowance_file} is not a file")
        return self

    def startup_warnings(self) -> list[str]:
        """What `serve` says once when it starts (not every command, not every Settings())."""
        warnings = []
        if self.environment == "local" and self.secret_key.get_secret_value() == DEFAULT_SECRET:
            warnings.append(DEFAULT_SECRET_WARNING)
        if not self.sms_configured:
            warnings.append("No Twilio settings: SMS are kept in the outbox and the log, not sent.")
        if not self.email_configured:
            warnings.append(
                "No SMTP settings: emails are kept in the outbox and the log, not sent."
            )
        return warnings

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
