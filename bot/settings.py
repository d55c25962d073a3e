"""The one Settings class: every name of DESIGN.md section 2, read from the environment or .env."""

from __future__ import annotations

import base64
import binascii
import ipaddress

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.i18n import _, normalize_locale


def _encoding_aes_key(value: str) -> bool:
    """43 characters of base64 that decode to a 32-byte AES key (WeCom's EncodingAESKey)."""
    if len(value) != 43:
        return False
    try:
        return len(base64.b64decode(value + "=", validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


class SettingsError(Exception):
    """A setting is missing or malformed; the message is meant for the person starting the app."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    # A workspace admin's user token (xoxp-…, user scope files:write): erasing a customer
    # deletes files people uploaded, which a bot token may not (only the app's own).
    slack_admin_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite+aiosqlite:///./sharetrail.db"
    public_base_url: str = "http://localhost:8080"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    admin_user_ids: str = ""
    sharetrail_secret: SecretStr | None = None
    # "Sign in with Slack" (OpenID Connect) for the web console; both or neither.
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    # Reverse proxies (addresses or CIDRs) whose X-Forwarded-For entries are believed.
    trusted_proxies: str = "127.0.0.1,::1"
    # Group-commit window for landing-page views (bot/recorder.py); 0 = write-through.
    tracking_flush_ms: int = Field(default=50, ge=0, le=10_000)
    # Multiplies the client-side Slack rate budgets (handlers/slack/pacing.py). Keep 1.0
    # against real Slack; stand-ins and benchmarks with scaled limits raise it.
    slack_pacing_scale: float = Field(default=1.0, gt=0, le=1000)
    # A WeCom self-built app (DESIGN.md section 8): served beside Slack when all are set.
    wecom_corp_id: str | None = None
    wecom_agent_id: str | None = None
    wecom_secret: SecretStr | None = None
    wecom_token: SecretStr | None = None
    wecom_aes_key: SecretStr | None = None
    wecom_api_url: str = "https://qyapi.weixin.qq.com/cgi-bin/"
    wecom_oauth_url: str = "https://open.weixin.qq.com/connect/oauth2/authorize"
    # Default language (en or zh): new activities, the console, people with no chat locale.
    language: str = "en"
    # The line under the customer's sign-up form, per language (empty: the built-in line),
    # and the full privacy notice it links to (empty: no link).
    privacy_notice_en: str = Field(default="", max_length=500)
    privacy_notice_zh: str = Field(default="", max_length=500)
    privacy_url: str = ""
    # Raw views older than this many days are folded into quarter-hour roll-ups and deleted
    # (bot/retention.py); every count stays the same.
    retention_days: int = Field(default=395, ge=1)

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_ends_with_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(_("must be an http(s) URL, e.g. https://slack.com/api/"))
        return value if value.endswith("/") else value + "/"

    @field_validator("wecom_api_url")
    @classmethod
    def _wecom_api_url_ends_with_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(_("must be an http(s) URL, e.g. https://qyapi.weixin.qq.com/cgi-bin/"))
        return value if value.endswith("/") else value + "/"

    @field_validator("wecom_oauth_url")
    @classmethod
    def _wecom_oauth_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(_("must be an http(s) URL"))
        return value

    @field_validator("wecom_aes_key")
    @classmethod
    def _aes_key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _encoding_aes_key(value.get_secret_value()):
            raise ValueError(_("must be the 43-character EncodingAESKey of the app's callback"))
        return value

    @model_validator(mode="after")
    def _wecom_all_or_none(self) -> Settings:
        names = ("wecom_corp_id", "wecom_agent_id", "wecom_secret", "wecom_token", "wecom_aes_key")
        given = [name for name in names if getattr(self, name) is not None]
        if given and len(given) != len(names):
            missing = ", ".join(name.upper() for name in names if name not in given)
            message = _("WeCom is half configured: also set {missing}")
            raise ValueError(message.format(missing=missing))
        return self

    @field_validator("public_base_url")
    @classmethod
    def _base_url_has_no_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(_("must be an http(s) URL, e.g. https://share.example.com"))
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                _("must use an async driver: sqlite+aiosqlite:///path.db or postgresql+asyncpg://…")
            )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                try:
                    ipaddress.ip_network(part.strip(), strict=False)
                except ValueError:
                    raise ValueError(
                        _("{value} is not an address or CIDR, e.g. 10.0.0.0/8,::1").format(
                            value=repr(part.strip())
                        )
                    ) from None
        return value

    @field_validator("privacy_url")
    @classmethod
    def _privacy_url_is_web(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError(_("PRIVACY_URL must be an http(s):// address (or empty)"))
        return value

    @field_validator("language")
    @classmethod
    def _language_is_supported(cls, value: str) -> str:
        # GNU gettext's LANGUAGE may be a list ("zh_CN:en"): the first supported entry wins.
        for part in value.split(":"):
            found = normalize_locale(part)
            if found:
                return found
        raise ValueError(_("must be en or zh"))

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError(_("must be a bot token starting with xoxb-"))
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError(_("must be an app-level token starting with xapp-"))
        return value

    @property
    def admin_ids(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.admin_user_ids.split(",") if part.strip())

    @property
    def console_sign_in(self) -> bool:
        """Whether the web console can sign people in (both OpenID Connect settings set)."""
        return bool(self.slack_client_id and self.slack_client_secret)

    @property
    def proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """TRUSTED_PROXIES parsed (a bare address is a network of one)."""
        parts = (part.strip() for part in self.trusted_proxies.split(","))
        return tuple(ipaddress.ip_network(part, strict=False) for part in parts if part)

    @property
    def wecom(self) -> bool:
        """Whether WeCom is served (every WECOM_* credential set)."""
        return self.wecom_corp_id is not None

    @property
    def slack(self) -> bool:
        return self.slack_bot_token is not None

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning pydantic's errors into one readable message (our own rules'
    messages in the current language, without pydantic's English "Value error, " prefix)."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]).upper() or "settings"
            cause = (error.get("ctx") or {}).get("error")
            message = str(cause) if error["type"] == "value_error" and cause else error["msg"]
            lines.append(f"  {name}: {message}")
        raise SettingsError(_("Invalid settings:") + "\n" + "\n".join(lines)) from None
