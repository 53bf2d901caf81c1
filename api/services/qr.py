"""QR codes of links, drawn with segno: one function for the partner API and the admin.

A code encodes the link's ``url`` by default: what *Copy* copies, with the
reporting info (Sub IDs, Shared ID) as query parameters, so a scan is
reported like a copied link. ``display_url`` (the link without reporting
info) is encoded on request. Both are the same strings the partner API
answers for the link.

Codes are deterministic: the same text, format, scale and margin always give
the same bytes, so :attr:`QrCode.etag` is computed from those inputs alone and
a client that already has the picture is answered without drawing it again.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import segno
from segno import DataOverflowError

from ..errors import RuleRefused
from ..i18n import Message
from . import links

#: Which of the link's URLs the code encodes.
Encoded = Literal["url", "display_url"]
ENCODED: tuple[Encoded, ...] = get_args(Encoded)
#: The picture's format.
QrFormat = Literal["svg", "png"]
MEDIA_TYPES: dict[QrFormat, str] = {"svg": "image/svg+xml", "png": "image/png"}

#: Pixels per module (one black or white square). A short link's code (version 3 to 5, 29 to 37
#: modules) is 300 to 400 pixels wide at 8 and over 800 at 20: enough for a PNG on screen or in
#: print; SVG, which scales without loss, is the format for posters. The bound also caps the work:
#: the largest code (version 40) at scale 20 is drawn in about half a second.
MIN_SCALE, MAX_SCALE, DEFAULT_SCALE = 1, 20, 8
#: The quiet zone around the code, in modules. The QR standard asks for 4; 0 suits a page
#: that leaves white space of its own, more than 16 only wastes paper.
MIN_MARGIN, MAX_MARGIN, DEFAULT_MARGIN = 0, 16, 4


@dataclass(frozen=True)
class QrCode:
    """A drawn code: its bytes, their media type, the text it encodes and a strong ETag."""

    content: bytes
    media_type: str
    text: str
    etag: str


def encoded_text(link: links.Link, base_url: str, keys: Sequence[str], encode: Encoded = "url") -> str:
    """The text a link's code encodes: its ``url`` (with reporting info) or its ``display_url``."""
    url, display_url = links.link_urls(link, base_url, keys)
    return url if encode == "url" else display_url


def qr_etag(text: str, fmt: QrFormat, scale: int, margin: int) -> str:
    """The ETag (without quotes) of the code these inputs draw; segno's version is part of it."""
    digest = hashlib.sha256(f"{segno.__version__}\n{fmt}\n{scale}\n{margin}\n{text}".encode()).hexdigest()
    return f"qr-{digest[:32]}"


def check_bounds(scale: int, margin: int) -> None:
    """Refuse a scale or margin outside the bounds (the API's query model checks the same first)."""
    if not MIN_SCALE <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be from {MIN_SCALE} to {MAX_SCALE}")
    if not MIN_MARGIN <= margin <= MAX_MARGIN:
        raise ValueError(f"margin must be from {MIN_MARGIN} to {MAX_MARGIN}")


def draw(text: str, fmt: QrFormat, scale: int = DEFAULT_SCALE, margin: int = DEFAULT_MARGIN) -> bytes:
    """The QR code of ``text`` as SVG or PNG bytes, or :class:`RuleRefused` (422 ``qr_too_long``).

    segno picks the smallest version that holds the text and then the highest
    error correction that still fits it (at least level L), so short links get
    sturdy codes and long ones still get one.
    """
    check_bounds(scale, margin)
    try:
        code = segno.make_qr(text, error="l", boost_error=True)
    except DataOverflowError:
        raise RuleRefused(
            Message(
                "This link is too long for a QR code ({size} bytes; a QR code holds at most {limit}). "
                "Use a short link, or shorter Sub IDs or Shared ID, or encode display_url.",
                size=format(len(text.encode()), ","),
                limit="2,953",
            ),
            "qr_too_long",
        ) from None
    out = io.BytesIO()
    if fmt == "svg":
        # A title names the link for screen readers; no XML declaration, so the SVG can be inlined too.
        code.save(out, kind="svg", scale=scale, border=margin, xmldecl=False, title=text, svgclass=None, lineclass=None)
    else:
        code.save(out, kind="png", scale=scale, border=margin)
    return out.getvalue()


def link_qr(
    link: links.Link,
    base_url: str,
    keys: Sequence[str],
    fmt: QrFormat,
    *,
    encode: Encoded = "url",
    scale: int = DEFAULT_SCALE,
    margin: int = DEFAULT_MARGIN,
) -> QrCode:
    """The QR code of one link (already checked to be the caller's), as the API serves it and the admin shows it."""
    text = encoded_text(link, base_url, keys, encode)
    return QrCode(draw(text, fmt, scale, margin), MEDIA_TYPES[fmt], text, qr_etag(text, fmt, scale, margin))
