"""Landing URL and allowed-domain rules: the guard against open redirects.

Pure functions, used at link creation, in the admin and again at redirect time.
A URL is accepted only when the host a browser would open is plainly an
allowed one: no userinfo, no backslashes, no control characters or spaces, no
percent-encoding or non-ASCII in the host, http or https only. Anything that
might be read two ways is refused rather than guessed at.
"""
from __future__ import annotations

import re
from typing import Iterable
from urllib.parse import quote, urlsplit

from .errors import LandingPageNotAllowed, ValidationError

MAX_URL_LENGTH = 2048
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_HEX_NUMBER = re.compile(r"^0x[0-9a-f]*$")
# Characters kept as they are when re-serialising path, query and fragment;
# anything else (non-ASCII) is percent-encoded the way a browser would.
_SAFE = "/?#[]@!$&'()*+,;=:%-._~"


def _valid_host(host: str) -> bool:
    if not host or len(host) > 253 or not host.isascii():
        return False
    labels = host.split(".")
    if not all(_LABEL.match(label) for label in labels):
        return False
    # Punycode labels can spell look-alike names (homographs): refused.
    if any(label.startswith("xn--") for label in labels):
        return False
    # A host whose last label is a number is an IP address in some spelling
    # (127.1, 0x7f.1, 0x7f000001): browsers follow the WHATWG "ends in a
    # number" rule, where a 0x-prefixed hex label counts as a number too.
    if labels[-1].isdigit() or _HEX_NUMBER.match(labels[-1]):
        return False
    return True


def normalize_domain(value: object) -> str:
    """Validate an allowed-domain entry: ``brand.com`` or ``*.brand.com``.

    ``brand.com`` allows exactly that host; ``*.brand.com`` allows its
    subdomains (any depth) and not ``brand.com`` itself, as TLS wildcards do.
    """
    if not isinstance(value, str):
        raise ValidationError("A domain must be text such as brand.com.", "invalid_domain")
    text = value.strip().lower()
    if "://" in text or "/" in text:
        raise ValidationError(
            f"“{value}” is a URL; enter just the domain, such as brand.com or *.brand.com.",
            "invalid_domain",
        )
    wildcard = text.startswith("*.")
    host = text[2:] if wildcard else text
    if not _valid_host(host):
        raise ValidationError(
            f"“{value}” is not a valid domain. Use letters, digits and hyphens, "
            "such as brand.com, or *.brand.com for its subdomains "
            "(no IP addresses, ports or internationalised names).",
            "invalid_domain",
        )
    if wildcard and "." not in host and host != "localhost":
        raise ValidationError(
            f"“{value}” would allow a whole top-level domain; name the site, such as *.brand.com.",
            "invalid_domain",
        )
    return f"*.{host}" if wildcard else host


def host_allowed(host: str, domains: Iterable[str]) -> bool:
    """Whether ``host`` (lower-case) is one of ``domains`` or under a ``*.`` entry."""
    for domain in domains:
        if domain.startswith("*."):
            if host.endswith(domain[1:]):
                return True
        elif host == domain:
            return True
    return False


def normalize_url(value: object) -> str:
    """Validate a landing URL and return the one form Tasklink stores and redirects to.

    Raises :class:`ValidationError` for anything that is not a plain http(s)
    URL with an ordinary host.
    """
    if not isinstance(value, str):
        raise ValidationError("The landing page must be a URL such as https://brand.com/sale.", "invalid_url")
    text = value.strip()
    if not text:
        raise ValidationError("The landing page URL is empty.", "invalid_url")
    if len(text) > MAX_URL_LENGTH:
        raise ValidationError(f"The landing page URL is longer than {MAX_URL_LENGTH} characters.", "invalid_url")
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in text) or "\\" in text:
        raise ValidationError(
            "The landing page URL contains spaces, control characters or backslashes.", "invalid_url"
        )
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValidationError("The landing page URL is malformed.", "invalid_url") from exc
    if parts.scheme not in ("http", "https"):
        raise ValidationError("The landing page must be an http or https URL.", "invalid_url")
    netloc = parts.netloc
    if "@" in netloc:
        raise ValidationError("The landing page URL must not contain a user name or password.", "invalid_url")
    host = (parts.hostname or "").lower()
    expected_netloc = host if port is None else f"{host}:{port}"
    if netloc.lower() not in (expected_netloc, f"{host}:"):
        raise ValidationError("The landing page URL has an unusual host part.", "invalid_url")
    if not _valid_host(host):
        raise ValidationError(
            "The landing page host must be an ordinary domain name (no IP addresses, "
            "percent-encoding or internationalised names).",
            "invalid_url",
        )
    if port is not None and not 0 < port < 65536:
        raise ValidationError("The landing page URL has an invalid port.", "invalid_url")
    path = quote(parts.path, safe=_SAFE) or "/"
    url = f"{parts.scheme}://{expected_netloc}{path}"
    if parts.query:
        url += "?" + quote(parts.query, safe=_SAFE)
    if parts.fragment:
        url += "#" + quote(parts.fragment, safe=_SAFE)
    # Belt and braces: what we built must parse back to the same host.
    if (urlsplit(url).hostname or "") != host:  # pragma: no cover - defensive
        raise ValidationError("The landing page URL is malformed.", "invalid_url")
    return url


def url_host(url: str) -> str:
    """The lower-case host of an already normalised URL."""
    return (urlsplit(url).hostname or "").lower()


def check_landing_url(value: object, domains: Iterable[str]) -> str:
    """Normalise a partner-typed URL and check it is on one of the allowed domains."""
    url = normalize_url(value)
    domains = list(domains)
    if not host_allowed(url_host(url), domains):
        allowed = ", ".join(domains) if domains else "none"
        raise LandingPageNotAllowed(
            f"This landing page is not allowed for the campaign: {url_host(url)} is not one "
            f"of its allowed domains ({allowed}).",
            "landing_page_not_allowed",
        )
    return url


def landing_url_allowed(url: str, page_urls: Iterable[str], domains: Iterable[str]) -> bool:
    """At redirect time: is a stored landing URL still one the campaign allows?

    Allowed when it is one of the campaign's landing pages or its host is on
    the allowed domains. Re-normalising guards against rows written by
    anything but the services.
    """
    try:
        normalized = normalize_url(url)
    except ValidationError:
        return False
    if normalized in set(page_urls):
        return True
    return host_allowed(url_host(normalized), domains)
