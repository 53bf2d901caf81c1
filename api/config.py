"""Settings from the ``TASKLINK_*`` environment variables.

Everything the app can be told lives in :class:`Settings`, built once by
:func:`load_settings`; the rest of the code reads the Flask config keys it sets
and never the environment directly.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigurationError

DEMO_KEY_FILE = "demo-secret-key"


@dataclass(frozen=True)
class Settings:
    """All operator-facing configuration, with their defaults."""

    database_url: str
    secret_keys: tuple[str, ...]
    base_url: str | None = None
    extension_origins: tuple[str, ...] = ()
    ratelimit_storage: str = "memory://"
    ratelimit_login: str = "10/minute"
    ratelimit_links: str = "120/minute"
    #: QR codes per partner: the largest takes a quarter of a second of CPU to draw.
    ratelimit_qr: str = "60/minute"
    demo: bool = False
    trusted_proxies: int = 0
    #: How long a worker may reuse what it read about a link (seconds; 0: never).
    redirect_cache_seconds: float = 1.0
    #: Where the redirect logs clicks before they are stored (default: <instance>/click-log).
    click_log_dir: str | None = None
    #: Below this much free space on the click log's disk, health answers 503 (a balancer
    #: then sends visitors elsewhere before redirects have to refuse them).
    click_log_min_free_bytes: int = 64 * 1024 * 1024
    #: Let partner postbacks go to private, loopback and link-local addresses (the demo's receivers
    #: run on this machine); off in production, where it would open the internal network to partners.
    postbacks_allow_private: bool = False

    def flask_config(self) -> dict[str, object]:
        """The Flask config keys this settings object stands for."""
        return {
            "DATABASE_URL": self.database_url,
            "SECRET_KEYS": list(self.secret_keys),
            "SECRET_KEY": self.secret_keys[0],
            "BASE_URL": self.base_url,
            "EXTENSION_ORIGINS": list(self.extension_origins),
            "RATELIMIT_STORAGE_URI": self.ratelimit_storage,
            "RATELIMIT_LOGIN": self.ratelimit_login,
            "RATELIMIT_LINKS": self.ratelimit_links,
            "RATELIMIT_QR": self.ratelimit_qr,
            "DEMO": self.demo,
            "TRUSTED_PROXIES": self.trusted_proxies,
            "REDIRECT_CACHE_SECONDS": self.redirect_cache_seconds,
            "CLICK_LOG_DIR": self.click_log_dir,
            "CLICK_LOG_MIN_FREE_BYTES": self.click_log_min_free_bytes,
            "DEMO_SHOP": self.demo,  # serve the demo shop (api/http/shop.py) in demo mode
            "POSTBACKS_ALLOW_PRIVATE": self.postbacks_allow_private,
        }


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _proxy_count(value: str | None) -> int:
    """``TASKLINK_TRUSTED_PROXIES``: how many proxies in front of the app set ``X-Forwarded-For``."""
    raw = (value or "").strip()
    if not raw:
        return 0
    if not raw.isdigit() or int(raw) > 10:
        raise ConfigurationError(
            "TASKLINK_TRUSTED_PROXIES must be the number of reverse proxies in front of the app "
            f"(0 to 10), for example 1 behind one load balancer; got {raw!r}."
        )
    return int(raw)


#: The longest a change that stops earnings (membership ended, link disabled, campaign
#: ended, pay for performance off) may take to apply to clicks on every node.
MAX_REDIRECT_CACHE_SECONDS = 5.0


def _cache_seconds(value: str | None) -> float:
    """``TASKLINK_REDIRECT_CACHE_SECONDS``: 0 to 5 seconds (default 1)."""
    raw = (value or "").strip()
    if not raw:
        return 1.0
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= MAX_REDIRECT_CACHE_SECONDS:
        raise ConfigurationError(
            "TASKLINK_REDIRECT_CACHE_SECONDS must be a number of seconds from 0 to 5 "
            f"(how long a change to a link or campaign may take to reach the redirect); got {raw!r}."
        )
    return seconds


def _bytes(value: str | None, default: int, name: str) -> int:
    """A whole number of bytes (0 or more) from the environment."""
    raw = (value or "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise ConfigurationError(f"{name} must be a whole number of bytes; got {raw!r}.")
    return int(raw)


def instance_folder(environ: Mapping[str, str] | None = None) -> str:
    """The instance folder: ``TASKLINK_INSTANCE_PATH``, else ``instance`` in the working directory (absolute)."""
    env = os.environ if environ is None else environ
    return str(Path(env.get("TASKLINK_INSTANCE_PATH") or "instance").resolve())


def private_directory(path: str | os.PathLike[str]) -> Path:
    """Make sure the folder exists; when this creates it, it is the owner's only (0700).

    The instance folder holds the SQLite database, the demo key and the click
    log: nobody else on the host should list or read them. An existing folder
    keeps the mode its operator gave it (missing parents get the default).
    """
    folder = Path(path)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def default_database_url(instance_path: str | os.PathLike[str]) -> str:
    """The embedded default: a SQLite file in the instance folder."""
    return f"sqlite:///{Path(instance_path) / 'tasklink.db'}"


def demo_secret_key(instance_path: str | os.PathLike[str]) -> str:
    """A development key generated once and kept in the instance folder.

    Only demo mode uses it, so a fresh checkout starts without any set-up while
    a production start without ``TASKLINK_SECRET_KEYS`` still refuses.
    """
    path = Path(instance_path) / DEMO_KEY_FILE
    if path.exists():
        return path.read_text().strip()
    private_directory(path.parent)
    key = secrets.token_urlsafe(32)
    # Create with 0600 so the key is never world readable, even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def load_settings(instance_path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> Settings:
    """Read the ``TASKLINK_*`` variables; refuse to start without keys outside demo mode."""
    env = os.environ if environ is None else environ
    demo = _flag(env.get("TASKLINK_DEMO"))
    keys = _split(env.get("TASKLINK_SECRET_KEYS"))
    if not keys:
        if not demo:
            raise ConfigurationError(
                "TASKLINK_SECRET_KEYS is not set. Set it to one or more long random "
                "keys, newest first and comma-separated, for example "
                "TASKLINK_SECRET_KEYS=$(python -c 'import secrets; print(secrets.token_urlsafe(32))'), "
                "or set TASKLINK_DEMO=1 to run the demo with a generated development key."
            )
        keys = (demo_secret_key(instance_path),)
    return Settings(
        database_url=env.get("TASKLINK_DATABASE_URL") or default_database_url(instance_path),
        secret_keys=keys,
        base_url=(env.get("TASKLINK_BASE_URL") or "").rstrip("/") or None,
        extension_origins=_split(env.get("TASKLINK_EXTENSION_ORIGINS")),
        ratelimit_storage=env.get("TASKLINK_RATELIMIT_STORAGE") or "memory://",
        ratelimit_login=env.get("TASKLINK_RATELIMIT_LOGIN") or "10/minute",
        ratelimit_links=env.get("TASKLINK_RATELIMIT_LINKS") or "120/minute",
        ratelimit_qr=env.get("TASKLINK_RATELIMIT_QR") or "60/minute",
        demo=demo,
        trusted_proxies=_proxy_count(env.get("TASKLINK_TRUSTED_PROXIES")),
        redirect_cache_seconds=_cache_seconds(env.get("TASKLINK_REDIRECT_CACHE_SECONDS")),
        click_log_dir=env.get("TASKLINK_CLICK_LOG_DIR") or None,
        click_log_min_free_bytes=_bytes(
            env.get("TASKLINK_CLICK_LOG_MIN_FREE_BYTES"), 64 * 1024 * 1024, "TASKLINK_CLICK_LOG_MIN_FREE_BYTES"
        ),
        postbacks_allow_private=_flag(env.get("TASKLINK_POSTBACKS_ALLOW_PRIVATE")),
    )
