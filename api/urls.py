"""Landing URL and allowed-domain rules: the guard against open redirects.

Pure functions, used at link creation, in the admin and again at redirect time.
A URL is accepted only when the host a browser would open is plainly an
allowed one: no userinfo, no backslashes, no control characters or spaces, no
percent-encoding or non-ASCII in the host, http or https only. Anything that
might be read two ways is refused rather than guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from functools import cache, lru_cache
from urllib.parse import quote, unquote_plus, urlsplit

from publicsuffixlist import PublicSuffixList

from .errors import LandingPageNotAllowed, ValidationError
from .i18n import Message

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
    return not (labels[-1].isdigit() or _HEX_NUMBER.match(labels[-1]))


def normalize_domain(value: object) -> str:
    """Validate an allowed-domain entry: ``brand.com`` or ``*.brand.com``.

    ``brand.com`` allows exactly that host; ``*.brand.com`` allows its
    subdomains (any depth) and not ``brand.com`` itself, as TLS wildcards do.
    """
    if not isinstance(value, str):
        raise ValidationError(Message("A domain must be text such as brand.com."), "invalid_domain")
    text = value.strip().lower()
    if "://" in text or "/" in text:
        raise ValidationError(
            Message("“{value}” is a URL; enter just the domain, such as brand.com or *.brand.com.", value=value),
            "invalid_domain",
        )
    wildcard = text.startswith("*.")
    host = text[2:] if wildcard else text
    if not _valid_host(host):
        raise ValidationError(
            Message(
                "“{value}” is not a valid domain. Use letters, digits and hyphens, "
                "such as brand.com, or *.brand.com for its subdomains "
                "(no IP addresses, ports or internationalised names).",
                value=value,
            ),
            "invalid_domain",
        )
    if wildcard and "." not in host and host != "localhost":
        raise ValidationError(
            Message("“{value}” would allow a whole top-level domain; name the site, such as *.brand.com.", value=value),
            "invalid_domain",
        )
    if public_suffix_list().is_public(host):
        if wildcard:
            message = Message(
                "{host} is a public suffix: anyone can publish under it, so “{value}” would allow other "
                "people's sites. Name your own site, such as *.yourbrand.{host}.",
                host=host,
                value=value,
            )
        else:
            message = Message(
                "{host} is a public suffix: anyone can publish under it and no one site owns it. "
                "Enter your own domain, such as yourbrand.{host}.",
                host=host,
            )
        raise ValidationError(message, "public_suffix")
    return f"*.{host}" if wildcard else host


@cache
def public_suffix_list() -> PublicSuffixList:
    """The Public Suffix List (ICANN and private sections), built on first use: it takes tens of milliseconds.

    ``accept_unknown=False``: a name the list does not know (``localhost``,
    ``test``, ``example``, a company's internal top-level domain) is not taken
    for a public suffix. Only what the list knows to be public is refused, so
    demo and intranet names keep working.
    """
    return PublicSuffixList(accept_unknown=False)


def _crosses_public_suffix(host: str, base: str) -> str | None:
    """The public suffix at or under ``base`` that ``host`` lies in, if any (then ``host`` is someone else's site).

    ``*.amazonaws.com`` must not reach ``bucket.s3.amazonaws.com``: anyone can
    publish there, and the Public Suffix List says so.
    """
    suffix = public_suffix_list().publicsuffix(host)
    if suffix is not None and (suffix == base or suffix.endswith("." + base)):
        return suffix
    return None


def host_allowed(host: str, domains: Iterable[str]) -> bool:
    """Whether ``host`` (lower-case) is one of ``domains`` or under a ``*.`` entry.

    A ``*.`` entry never reaches across a public suffix (``*.github.io``, or
    ``*.amazonaws.com`` for ``bucket.s3.amazonaws.com``), including entries
    stored before such wildcards were refused.
    """
    for domain in domains:
        if domain.startswith("*."):
            if host.endswith(domain[1:]) and _crosses_public_suffix(host, domain[2:]) is None:
                return True
        elif host == domain:
            return True
    return False


def not_on_domains_reason(host: str, domains: Iterable[str]) -> str:
    """Why ``host`` is not on ``domains``, as the end of a sentence: the domains, or the public suffix in the way."""
    domains = list(domains)
    for domain in domains:
        if domain.startswith("*.") and host.endswith(domain[1:]):
            suffix = _crosses_public_suffix(host, domain[2:])
            if suffix is not None:
                return Message(
                    "{host} is under {suffix}, a public suffix where anyone can publish, so {domain} does not cover it",
                    host=host,
                    suffix=suffix,
                    domain=domain,
                )
    if not domains:
        return Message("the campaign has no allowed domains yet")
    return Message(
        "{host} is not one of the campaign's allowed domains ({domains})", host=host, domains=", ".join(domains)
    )


def normalize_url(value: object) -> str:
    """Validate a landing URL and return the one form Tasklink stores and redirects to.

    Raises :class:`ValidationError` for anything that is not a plain http(s)
    URL with an ordinary host.
    """
    if not isinstance(value, str):
        raise ValidationError(Message("The landing page must be a URL such as https://brand.com/sale."), "invalid_url")
    text = value.strip()
    if not text:
        raise ValidationError(Message("The landing page URL is empty."), "invalid_url")
    if len(text) > MAX_URL_LENGTH:
        raise ValidationError(
            Message("The landing page URL is longer than {limit} characters.", limit=MAX_URL_LENGTH), "invalid_url"
        )
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in text) or "\\" in text:
        raise ValidationError(
            Message("The landing page URL contains spaces, control characters or backslashes."), "invalid_url"
        )
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValidationError(Message("The landing page URL is malformed."), "invalid_url") from exc
    if parts.scheme not in ("http", "https"):
        raise ValidationError(Message("The landing page must be an http or https URL."), "invalid_url")
    netloc = parts.netloc
    if "@" in netloc:
        raise ValidationError(Message("The landing page URL must not contain a user name or password."), "invalid_url")
    host = (parts.hostname or "").lower()
    expected_netloc = host if port is None else f"{host}:{port}"
    if netloc.lower() not in (expected_netloc, f"{host}:"):
        raise ValidationError(Message("The landing page URL has an unusual host part."), "invalid_url")
    if not _valid_host(host):
        raise ValidationError(
            Message(
                "The landing page host must be an ordinary domain name (no IP addresses, "
                "percent-encoding or internationalised names)."
            ),
            "invalid_url",
        )
    if port is not None and not 0 < port < 65536:
        raise ValidationError(Message("The landing page URL has an invalid port."), "invalid_url")
    path = quote(parts.path, safe=_SAFE) or "/"
    url = f"{parts.scheme}://{expected_netloc}{path}"
    if parts.query:
        url += "?" + quote(parts.query, safe=_SAFE)
    if parts.fragment:
        url += "#" + quote(parts.fragment, safe=_SAFE)
    # Belt and braces: what we built must parse back to the same host.
    if (urlsplit(url).hostname or "") != host:  # pragma: no cover - defensive
        raise ValidationError(Message("The landing page URL is malformed."), "invalid_url")
    return url


def url_host(url: str) -> str:
    """The lower-case host of an already normalised URL."""
    return (urlsplit(url).hostname or "").lower()


def check_landing_url(value: object, domains: Iterable[str], click_id_param: str | None = None) -> str:
    """Normalise a partner-typed URL and check it is on one of the allowed domains.

    With ``click_id_param``, a URL carrying that parameter in any spelling is
    refused too (see :func:`refuse_click_id_param`).
    """
    url = normalize_url(value)
    domains = list(domains)
    host = url_host(url)
    if not host_allowed(host, domains):
        raise LandingPageNotAllowed(
            Message(
                "This landing page is not allowed for the campaign: {reason}.",
                reason=not_on_domains_reason(host, domains),
            ),
            "landing_page_not_allowed",
        )
    if click_id_param is not None:
        refuse_click_id_param(url, click_id_param)
    return url


def refuse_click_id_param(url: str, click_id_param: str, what: str = Message("The landing URL")) -> None:
    """Refuse (422, ``click_id_param_in_url``) a URL that carries the campaign's click-id parameter in any spelling.

    The redirect adds a fresh click id to every visit; a URL bringing its own
    would let a landing page that reads the first value credit a sale to a
    click of the URL author's choosing.
    """
    found = find_param(url, click_id_param)
    if found is None:
        return
    if found == click_id_param:
        message = Message(
            "{what} carries the click-id parameter “{param}”. Tasklink adds a fresh click id "
            "to every visit: remove that parameter from the URL.",
            what=what,
            param=click_id_param,
        )
    else:
        message = Message(
            "{what} carries the click-id parameter “{param}” (written “{found}”). Tasklink adds a fresh click id "
            "to every visit: remove that parameter from the URL.",
            what=what,
            param=click_id_param,
            found=found,
        )
    raise LandingPageNotAllowed(message, "click_id_param_in_url")


def allowed_landing_url(url: str, mode: str, pages: Collection[str], domains: Iterable[str]) -> str | None:
    """At redirect time: ``url`` in its normalised form if the campaign allows it now, else ``None``.

    Every destination is on the allowed domains, in every mode. On top of
    that, ``manual`` takes any such URL (deep links), while ``choose`` and
    ``default`` take only one of ``pages``: the caller passes the pages a link
    may use in that mode (all of them in choose mode; the default and the
    task's own page in default mode). An unknown mode allows nothing.
    Re-normalising guards against rows written by anything but the services,
    and the redirect goes to exactly what was checked.
    """
    try:
        normalized = normalize_url(url)
    except ValidationError:
        return None
    if not host_allowed(url_host(normalized), domains):
        return None
    if mode == "manual" or (mode in ("choose", "default") and normalized in pages):
        return normalized
    return None


# --- parameters a URL carries, in any spelling ------------------------------------
#
# A landing page reads its click id with whatever its framework offers, and
# frameworks disagree about names: they percent-decode (some twice, through a
# proxy or a rewrite), read "+" as a space, trim or ignore case, turn
# "clickid[]" into an array called clickid, and some still split the query on
# ";" as well as "&". Hash-routed single-page apps read parameters from the
# fragment. So a name counts as the parameter when *any* of these readings
# gives it; refusing or removing a look-alike that no server would have read
# costs nothing, missing one lets a partner plant a click id.

_SEPARATORS = re.compile(r"([&;])")
# A parameter name (it follows ?, &, ; or #, and ends at =) with a % in it.
_ENCODED_NAME = re.compile(r"[?&;#][^=&;#]*%")


def _decoded(text: str) -> str:
    """``text`` percent-decoded (``+`` as a space) until stable.

    Every round that changes something shortens the text, or only turns
    ``+`` into spaces, which the next round keeps: it ends.
    """
    while "%" in text or "+" in text:
        decoded = unquote_plus(text)
        if decoded == text:
            break
        text = decoded
    return text


def _param_key(raw_name: str) -> str:
    """The name a lenient server could read for a raw (still encoded) parameter name."""
    name = _decoded(raw_name).split("\x00", 1)[0]  # C-string handling stops at a NUL byte
    bracket = name.find("[")
    if bracket > 0:  # PHP and Rack read clickid[] and clickid[x] as clickid
        name = name[:bracket]
    # PHP also reads spaces and dots in a name as underscores.
    return name.strip().casefold().replace(" ", "_").replace(".", "_")


@lru_cache(maxsize=256)
def _wanted(name: str) -> tuple[str, str]:
    """``(key, probe)`` of a parameter name, worked out once per name.

    ``probe`` is the longest part of the key between underscores: a URL that
    is plain ASCII without ``%`` can only carry the parameter when its
    lower-case text contains the probe, which lets the common case skip parsing.
    """
    key = _param_key(name)
    probe = max(key.split("_"), key=len)
    return key, probe


def _parts(url: str) -> tuple[str, str, str, str]:
    """``(before the query, query, fragment prefix, fragment parameters)`` of a URL.

    The fragment's parameters are what follows its first ``?`` (a hash
    router's ``#/cart?a=1``), or the whole fragment when it looks like
    ``a=1&b=2``; otherwise there are none.
    """
    base, _, fragment = url.partition("#")
    before, _, query = base.partition("?")
    if "?" in fragment:
        prefix, _, params = fragment.partition("?")
        prefix += "?"
    elif "=" in fragment:
        prefix, params = "", fragment
    else:
        prefix, params = fragment, ""
    return before, query, prefix, params


def _matches(segment: str, key: str) -> bool:
    return _param_key(segment.partition("=")[0]) == key


def _find(params: str, key: str) -> str | None:
    """The raw name of the first parameter of ``params`` that reads as ``key``."""
    for segment in _SEPARATORS.split(params)[::2]:
        if segment and _matches(segment, key):
            return segment.partition("=")[0]
    return None


def _remove(params: str, key: str) -> str:
    """``params`` without every parameter that reads as ``key``, the rest byte for byte."""
    pieces = _SEPARATORS.split(params)  # segment, separator, segment, ...
    kept: list[str] = []
    separator = ""
    for index in range(0, len(pieces), 2):
        segment = pieces[index]
        if segment and _matches(segment, key):
            pass  # dropped with the separator in front of it
        else:
            kept.append(separator + segment if kept else segment)
        separator = pieces[index + 1] if index + 1 < len(pieces) else ""
    return "".join(kept)


def _may_carry(url: str, name: str) -> bool:
    """Cheap test: ``False`` only when ``url`` certainly carries no parameter that reads as ``name``.

    When no parameter *name* is percent-encoded (values may be) and the URL
    is ASCII, decoding, trimming, brackets and case can only remove or
    replace characters around the probe, never make it up: the probe must be
    in the lower-case URL.
    """
    if not url.isascii() or ("%" in url and _ENCODED_NAME.search(url)):
        return True
    return _wanted(name)[1] in url.lower()


def find_param(url: str, name: str) -> str | None:
    """The raw name under which ``url`` carries parameter ``name`` in some spelling, or ``None``.

    A parameter counts when its name, percent-decoded until stable with
    ``+`` as a space, with surrounding whitespace dropped, in any letter case
    (casefold), and read as ``name`` when written ``name[]`` or ``name[key]``,
    equals ``name`` (spaces and dots count as underscores, as PHP reads them).
    Both the query and parameters in the fragment are searched, split on
    ``&`` and on ``;``.
    """
    if not _may_carry(url, name):
        return None
    key = _wanted(name)[0]
    _, query, _, fragment_params = _parts(url)
    return _find(query, key) or _find(fragment_params, key)


def without_param(url: str, name: str) -> str:
    """``url`` without every parameter :func:`find_param` would find, everything else byte for byte.

    A query or fragment emptied by the removal loses its ``?`` or ``#``. The
    common case, a URL that certainly does not carry the name, is returned
    as it is after a substring test.
    """
    if not _may_carry(url, name):
        return url
    key = _wanted(name)[0]
    before, query, prefix, fragment_params = _parts(url)
    result = before
    kept = _remove(query, key)
    if kept or (kept == query and "?" in url.partition("#")[0]):
        result += "?" + kept
    if "#" in url:
        kept = _remove(fragment_params, key)
        if kept != fragment_params and not kept:
            prefix = prefix.removesuffix("?")  # "#/cart?clickid=x" becomes "#/cart"
        fragment = prefix + kept
        if fragment or kept == fragment_params:
            result += "#" + fragment
    return result
