"""Settings and the default policy data (dispatch waves, languages)."""

from config.settings import Settings, get_settings

__all__ = ["Settings", "get_settings"]
