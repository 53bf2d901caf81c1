"""Landing URL and domain rules: the open-redirect guard (api.urls)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from api import urls
from api.errors import LandingPageNotAllowed, ValidationError

ALLOWED = ["brand.test", "*.shop.brand.test"]

HOSTILE = [
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "ftp://brand.test/file",
    "//evil.test",
    "///evil.test",
    "https:evil.test",
    "https:/evil.test",
    "https://evil.test",
    "https://brand.test.evil.test/",
    "https://evilbrand.test/",
    "https://brand.test@evil.test/",
    "https://user:pass@brand.test/",
    "https://brand.test:443@evil.test/",
    "https://brand.test\\@evil.test/",
    "https://brand.test\\evil.test/",
    "https:\\\\evil.test",
    "https://evil.test\\.brand.test/",
    "https://brand%2etest/",
    "https://evil.test%2f.brand.test/",
    "https://evil.test%00.brand.test/",
    "https://brand.test%40evil.test/",
    "https://brand。test/",
    "https://bränd.test/",
    "https://xn--brnd-koa.test/",
    "https://xn--brand-xyz.test/",
    "https://127.0.0.1/",
    "https://2130706433/",
    "https://0x7f.0.0.1/",
    "https://0x7f000001/",
    "https://127.0x1/",
    "https://[::1]/",
    "https://brand.test./",
    "https://bra nd.test/",
    "https://brand.test/\r\nLocation: https://evil.test",
    "https://brand.test/\tpath",
    "\x00https://brand.test/",
    "https://brand.test:99999/",
    "https://brand.test:abc/",
    "https://shop.brand.test.evil.test/",
    "https://shop.brand.test/",  # the wildcard is for subdomains of shop.brand.test only
    "https://-brand.test/",
    "",
    "   ",
    "https://" + "a" * 2100 + ".brand.test/",
]

ACCEPTED = [
    ("https://brand.test/", "https://brand.test/"),
    ("https://BRAND.test/Sale?x=1#top", "https://brand.test/Sale?x=1#top"),
    ("http://brand.test", "http://brand.test/"),
    ("https://brand.test:8443/a", "https://brand.test:8443/a"),
    ("https://a.shop.brand.test/p", "https://a.shop.brand.test/p"),
    ("https://x.y.shop.brand.test/p", "https://x.y.shop.brand.test/p"),
    ("  https://brand.test/trim  ", "https://brand.test/trim"),
    ("https://brand.test/café?q=ü", "https://brand.test/caf%C3%A9?q=%C3%BC"),
    ("https://brand.test/a?next=https://evil.test", "https://brand.test/a?next=https://evil.test"),
    ("https://brand.test/#@evil.test", "https://brand.test/#@evil.test"),
]


@pytest.mark.parametrize("url", HOSTILE)
def test_hostile_landing_urls_are_refused(url: str) -> None:
    with pytest.raises((ValidationError, LandingPageNotAllowed)):
        urls.check_landing_url(url, ALLOWED)


@pytest.mark.parametrize(("url", "expected"), ACCEPTED)
def test_plain_urls_on_allowed_domains_are_accepted_in_one_form(url: str, expected: str) -> None:
    assert urls.check_landing_url(url, ALLOWED) == expected


def test_refusal_names_the_host_and_the_allowed_domains() -> None:
    with pytest.raises(LandingPageNotAllowed) as info:
        urls.check_landing_url("https://evil.test/x", ALLOWED)
    assert "evil.test" in info.value.message and "brand.test" in info.value.message


CORPUS = Path(__file__).parent / "data" / "open-redirect-payloads.txt"


def _corpus() -> list[str]:
    lines = CORPUS.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    return [
        line.replace("www.whitelisteddomain.tld", "brand.test").replace("google.com", "evil.test")
        for line in lines
        if line.strip()
    ]


@pytest.mark.parametrize("payload", _corpus())
def test_open_redirect_corpus_is_refused_or_stays_on_the_allowed_host(payload: str) -> None:
    """Every payload is refused, or accepted only as a URL a browser opens on brand.test."""
    try:
        url = urls.check_landing_url(payload, ["brand.test"])
    except (ValidationError, LandingPageNotAllowed):
        return
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https")
    assert parts.hostname == "brand.test"
    assert "@" not in parts.netloc and "\\" not in url
    assert all(0x21 <= ord(ch) < 0x7F for ch in url)


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("brand.com", "brand.com"),
        (" Brand.COM ", "brand.com"),
        ("*.brand.com", "*.brand.com"),
        ("shop.localhost", "shop.localhost"),
        ("*.localhost", "*.localhost"),
        ("a-b.co.uk", "a-b.co.uk"),
    ],
)
def test_domains_are_normalised(domain: str, expected: str) -> None:
    assert urls.normalize_domain(domain) == expected


@pytest.mark.parametrize(
    "domain",
    [
        "https://brand.com",
        "brand.com/path",
        "*.com",
        "*",
        "bränd.com",
        "xn--brnd-koa.com",
        "127.0.0.1",
        "brand..com",
        "-brand.com",
        "brand.com:80",
        "*.*.brand.com",
        "brand.*.com",
        "user@brand.com",
        "",
        42,
        # Browsers read a hex last label as a number: these are IPv4 addresses (127.0.0.1).
        "0x7f000001",
        "brand.0x7f000001",
        "*.0x1",
    ],
)
def test_bad_domains_are_refused(domain: object) -> None:
    with pytest.raises(ValidationError):
        urls.normalize_domain(domain)


def test_wildcard_covers_subdomains_but_not_the_apex_or_look_alikes() -> None:
    assert urls.host_allowed("a.brand.com", ["*.brand.com"])
    assert urls.host_allowed("a.b.brand.com", ["*.brand.com"])
    assert not urls.host_allowed("brand.com", ["*.brand.com"])
    assert not urls.host_allowed("evilbrand.com", ["*.brand.com"])
    assert not urls.host_allowed("sub.brand.com", ["brand.com"])


def test_stored_urls_are_checked_again_at_redirect_time() -> None:
    pages = ["https://brand.test/landing"]
    allowed = urls.allowed_landing_url
    for mode in ("manual", "choose", "default"):
        assert allowed("https://brand.test/landing", mode, pages, ["brand.test"]) == "https://brand.test/landing"
        # Being one of the pages is not enough: every destination is on the allowed domains.
        assert allowed("https://brand.test/landing", mode, pages, []) is None
        assert allowed("https://evil.test/", mode, ["https://evil.test/"], ["brand.test"]) is None
        assert allowed("javascript:alert(1)", mode, pages, ["brand.test"]) is None
    # A deep link: any URL on the domains in manual mode, none in choose or default mode.
    assert allowed("https://brand.test/other", "manual", pages, ["brand.test"]) == "https://brand.test/other"
    assert allowed("https://brand.test/other", "choose", pages, ["brand.test"]) is None
    assert allowed("https://brand.test/other", "default", pages, ["brand.test"]) is None
    assert allowed("https://brand.test/landing", "sideways", pages, ["brand.test"]) is None
    assert allowed("https://BRAND.test/landing", "choose", pages, ["brand.test"]) == "https://brand.test/landing"


# --- parameters in any spelling (the click-id guard) -----------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://brand.test/?clickid=1", "https://brand.test/"),
        ("https://brand.test/?a=1&clickid=1&b=2", "https://brand.test/?a=1&b=2"),
        ("https://brand.test/?clickid=1&a=%2F&&b", "https://brand.test/?a=%2F&&b"),  # the rest byte for byte
        ("https://brand.test/?a=1;ClickId=1;b=2&c", "https://brand.test/?a=1;b=2&c"),
        ("https://brand.test/?a=1&CLICK%2569D[]=1#top", "https://brand.test/?a=1#top"),
        ("https://brand.test/?a=1#clickid=1", "https://brand.test/?a=1"),
        ("https://brand.test/#/cart?clickid=1", "https://brand.test/#/cart"),
        ("https://brand.test/#/cart?x=1&clickid=1", "https://brand.test/#/cart?x=1"),
        ("https://brand.test/?", "https://brand.test/?"),
        ("https://brand.test/?x#", "https://brand.test/?x#"),
        (
            "https://brand.test/?clickid2=1&myclickid=2&click_id=3",
            "https://brand.test/?clickid2=1&myclickid=2&click_id=3",
        ),
        ("https://brand.test/?next=%2F%3Fclickid%3D1", "https://brand.test/?next=%2F%3Fclickid%3D1"),
    ],
)
def test_without_param_removes_every_spelling_and_keeps_the_rest(url: str, expected: str) -> None:
    assert urls.without_param(url, "clickid") == expected
    assert (urls.find_param(url, "clickid") is not None) is (url != expected)


def test_find_param_names_the_spelling_found() -> None:
    assert urls.find_param("https://brand.test/?a=1&Click%69d[]=2", "clickid") == "Click%69d[]"
    assert urls.find_param("https://brand.test/?a=1", "clickid") is None


def test_names_with_underscores_match_as_php_reads_them() -> None:
    # PHP turns spaces and dots in a name into underscores: click.id arrives as click_id.
    for spelling in ("click_id", "click.id", "click%20id", "CLICK+ID", "click%2Eid[]"):
        assert urls.find_param(f"https://brand.test/?{spelling}=x", "click_id") is not None, spelling
    assert urls.find_param("https://brand.test/?clickid=x&click-id=y", "click_id") is None
    assert urls.find_param("https://brand.test/?tl_click=x", "tl.click") == "tl_click"


def _random_spelling(rng, param: str) -> str:  # type: ignore[no-untyped-def]
    """``param`` written some way a server might still read as ``param`` (or, mutated, might not)."""
    out = []
    for ch in param:
        way = rng.randrange(6)
        if way == 0:
            out.append(ch.upper())
        elif way == 1:
            out.append(f"%{ord(ch):02X}")
        elif way == 2:
            out.append(f"%25{ord(ch):02x}")
        elif way == 3 and ch == "k":
            out.append(rng.choice(["\u212a", "%E2%84%AA"]))
        elif way == 3 and ch == "_":
            out.append(rng.choice([".", "+", "%20", "%2E"]))
        else:
            out.append(ch)
    if rng.random() < 0.3:  # a mutation: usually no longer the name
        index = rng.randrange(len(out) + 1)
        out.insert(index, rng.choice(["x", "_", "%", "%2", "[", "=", "&", ";", "#", "?"]))
    return rng.choice(["", "+", "%20", "%09"]) + "".join(out) + rng.choice(["", "[]", "%5B%5D", "[a]", "%00", "+"])


def test_the_shortcut_never_skips_a_url_that_carries_the_name() -> None:
    """The cheap pre-test of the redirect's hot path agrees with the full parse on random spellings."""
    import random

    rng = random.Random(20260501)
    found = 0
    for _ in range(4000):
        param = rng.choice(["clickid", "click_id", "tl.click"])
        prefix = rng.choice(
            [
                "https://brand.test/?",
                "https://brand.test/?a=%41&",
                "https://brand.test/#",
                "https://brand.test/p?q=1#/r?",
                "https://brand.test/?a=1;",
            ]
        )
        url = prefix + _random_spelling(rng, param) + rng.choice(["", "=1", "=v%20w&b=2"])
        key = urls._wanted(param)[0]
        _, query, _, fragment_params = urls._parts(url)
        if urls._find(query, key) or urls._find(fragment_params, key):
            found += 1
            assert urls._may_carry(url, param), (url, param)
            assert urls.find_param(url, param) is not None
            assert urls.find_param(urls.without_param(url, param), param) is None
    assert found > 2000  # the generator does make real spellings


# --- public suffixes (the Public Suffix List, private section included) ------------


@pytest.mark.parametrize(
    ("domain", "suffix"),
    [
        ("*.github.io", "github.io"),
        ("*.co.uk", "co.uk"),
        ("*.herokuapp.com", "herokuapp.com"),
        ("*.s3.amazonaws.com", "s3.amazonaws.com"),
        ("*.pages.dev", "pages.dev"),
        ("*.x.kawasaki.jp", "x.kawasaki.jp"),
        ("co.uk", "co.uk"),
        ("github.io", "github.io"),
        ("com", "com"),
        ("blogspot.com", "blogspot.com"),
    ],
)
def test_public_suffixes_are_refused_saying_why(domain: str, suffix: str) -> None:
    with pytest.raises(ValidationError) as refused:
        urls.normalize_domain(domain)
    assert refused.value.code == "public_suffix"
    assert refused.value.message.startswith(f"{suffix} is a public suffix: anyone can publish under it")


def test_a_wildcard_on_a_whole_top_level_domain_is_refused() -> None:
    with pytest.raises(ValidationError, match="whole top-level domain"):
        urls.normalize_domain("*.com")


@pytest.mark.parametrize(
    "domain",
    # Names the list does not know (localhost, .test, .example, an intranet's own) are not public suffixes.
    [
        "*.localhost",
        "shop.localhost",
        "*.brand.example",
        "*.brand.test",
        "intranet.corp",
        "*.brand.corp",
        "brand.co.uk",
        "*.brand.co.uk",
        "*.yourname.github.io",
        "yourname.github.io",
        "amazonaws.com",
    ],
)
def test_own_domains_under_public_suffixes_are_accepted(domain: str) -> None:
    assert urls.normalize_domain(domain) == domain


def test_a_wildcard_never_reaches_across_a_public_suffix() -> None:
    # Stored before such entries were refused, or a base with public suffixes under it.
    assert not urls.host_allowed("evil.github.io", ["*.github.io"])
    assert not urls.host_allowed("bucket.s3.amazonaws.com", ["*.amazonaws.com"])
    assert urls.host_allowed("www.amazonaws.com", ["*.amazonaws.com"])
    assert urls.host_allowed("a.b.brand.co.uk", ["*.brand.co.uk"])
    assert urls.host_allowed("shop.localhost", ["*.localhost"])
    with pytest.raises(
        LandingPageNotAllowed, match=re.escape("s3.amazonaws.com, a public suffix where anyone can publish")
    ):
        urls.check_landing_url("https://bucket.s3.amazonaws.com/x", ["*.amazonaws.com"])


def test_the_list_is_built_once() -> None:
    assert urls.public_suffix_list() is urls.public_suffix_list()
