"""Which user agents are bots (api/bots.py, clicks.is_bot): the package's patterns plus ours, never a browser."""

from __future__ import annotations

import re

import crawleruseragents
import pytest

from api import bots
from api.services.clicks import is_bot

# Real people: desktop and mobile browsers, and the in-app browsers of social
# apps, which open links for real people and must never be counted as bots.
BROWSERS = {
    "chrome-windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "chrome-mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "chrome-linux": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "chromeos": "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "firefox-windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "firefox-mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0",
    "firefox-linux": "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "safari-mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "edge-windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "opera": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0",
    "vivaldi": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Vivaldi/7.0.3495.6",
    "yandex-browser": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 YaBrowser/24.10.0.0 Safari/537.36",
    "chrome-android": "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "firefox-android": "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
    "samsung-internet": "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
    "uc-browser": "Mozilla/5.0 (Linux; U; Android 10; en-US; RMX2020 Build/QP1A.190711.020) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/100.0.4896.58 UCBrowser/13.4.0.1306 Mobile Safari/537.36",
    "miui-browser": "Mozilla/5.0 (Linux; U; Android 13; en-gb; 2201117TY Build/TKQ1.221114.001) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/112.0.5615.136 Mobile Safari/537.36 XiaoMi/MiuiBrowser/14.6.0-gn",
    "huawei-browser": "Mozilla/5.0 (Linux; Android 12; NOH-NX9; HMSCore 6.13.0.321) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.5735.196 HuaweiBrowser/15.0.4.312 Mobile Safari/537.36",
    "amazon-silk": "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/131.2.2 like Chrome/131.0.6778.85 Safari/537.36",
    "opera-mini": "Opera/9.80 (Android; Opera Mini/7.5.54678/191.308; U; en) Presto/2.12.423 Version/12.16",
    "safari-iphone": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "safari-ipad": "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "chrome-ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
    "firefox-ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15",
    "edge-ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 EdgiOS/131.2903.68 Mobile/15E148 Safari/605.1.15",
    "duckduckgo-ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 DuckDuckGo/7 Safari/605.1.15",
    "google-app-ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/343.0.695551749 Mobile/15E148 Safari/604.1",
    "gmail-android-webview": "Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/AP2A.240805.005; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/127.0.6533.103 Mobile Safari/537.36",
    "instagram-ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 339.0.3.12.91 (iPhone14,5; iOS 17_5; en_US; en; scale=3.00; 1170x2532; 620285286)",
    "instagram-android": "Mozilla/5.0 (Linux; Android 13; SM-A536B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/126.0.6478.134 Mobile Safari/537.36 Instagram 339.0.0.30.105 Android (33/13; 450dpi; 1080x2173; samsung; SM-A536B; a53x; s5e8825; en_US; 620285245)",
    "facebook-ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/471.0.0.35.106;FBBV/619463064;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.5.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5;FBRV/621290556]",
    "facebook-android": "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240805.005; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/127.0.6533.103 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/477.0.0.49.79;]",
    "messenger-android": "Mozilla/5.0 (Linux; Android 13; SM-G991B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/127.0.6533.103 Mobile Safari/537.36 [FB_IAB/Orca-Android;FBAV/470.0.0.41.109;]",
    "tiktok-android": "Mozilla/5.0 (Linux; Android 12; SM-A125F Build/SP1A.210812.016; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/126.0.6478.134 Mobile Safari/537.36 trill_350402 JsSdk/1.0 NetType/WIFI Channel/googleplay AppName/trill app_version/35.4.2 ByteLocale/en ByteFullLocale/en Region/US AppId/1180 Spark/1.5.9.3-bugfix AppVersion/35.4.2 BytedanceWebview/d8a21c6",
    "tiktok-ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 musical_ly_35.4.0 JsSdk/2.0 NetType/WIFI Channel/App Store ByteLocale/en Region/US isDarkMode/0 WKWebView/1 RevealType/Dialog BytedanceWebview/d8a21c6",
    "snapchat-ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Snapchat/13.0.0.40 (like Safari/8618.2.12.10.7, panda)",
    "linkedin-app-ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [LinkedInApp]/9.30.1545",
    "twitter-ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Twitter for iPhone/10.50",
    "pinterest-ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [Pinterest/iOS]",
    "line-ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari Line/14.10.0",
    "wechat-ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x1800323c) NetType/WIFI Language/en",
    "kakaotalk-ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 KAKAOTALK 10.8.0",
    "naver-app-ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 NAVER(inapp; search; 2000; 12.6.4; 15PRO)",
}

# Not people, each with the list that catches it: "package" (crawler-user-agents),
# "ours" (api/data/bot_user_agents.txt) or "both". A row that changes column
# when the package is upgraded says so: drop the line of ours it made redundant.
BOTS = [
    # HTTP libraries and command-line tools
    ("curl/8.5.0", "package"),
    ("Wget/1.21.4", "package"),
    ("python-requests/2.32.3", "package"),
    ("Python-urllib/3.11", "package"),
    ("Python/3.11 aiohttp/3.9.5", "package"),
    ("python-httpx/0.27.0", "package"),
    ("Go-http-client/1.1", "package"),
    ("okhttp/4.12.0", "package"),
    ("libwww-perl/6.72", "package"),
    ("node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "package"),
    ("axios/1.7.2", "package"),
    ("HTTPie/3.2.2", "package"),
    ("Scrapy/2.11.2 (+https://scrapy.org)", "package"),
    ("Java/17.0.2", "ours"),
    ("Java-http-client/17.0.2", "ours"),
    ("Apache-HttpClient/4.5.14 (Java/17.0.2)", "both"),
    ("python-urllib3/2.2.1", "ours"),
    ("PycURL/7.45.2 libcurl/8.4.0 OpenSSL/3.0.13", "ours"),
    ("http.rb/5.1.1", "ours"),
    ("rest-client/2.1.0 (linux-gnu x86_64) ruby/3.2.2p53", "ours"),
    ("Faraday v2.9.0", "ours"),
    ("GuzzleHttp/7", "ours"),
    ("Symfony HttpClient/Curl", "ours"),
    ("undici", "ours"),
    ("Deno/1.45.5", "ours"),
    ("Bun/1.1.20", "ours"),
    ("Dart/3.4 (dart:io)", "ours"),
    ("reqwest/0.12.5", "ours"),
    ("go-resty/2.12.0 (https://github.com/go-resty/resty)", "ours"),
    ("Mozilla/5.0 (Windows NT 10.0; Microsoft Windows 10.0.22631; en-US) PowerShell/7.4.5", "ours"),
    ("PostmanRuntime/7.39.0", "ours"),
    ("insomnia/2023.5.8", "ours"),
    # headless browsers and page testers
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
        "package",
    ),
    (
        "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
        "package",
    ),
    # link unfurlers and previewers
    ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "package"),
    ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "package"),
    ("Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", "both"),
    ("TelegramBot (like TwitterBot)", "package"),
    ("WhatsApp/2.23.20.0 A", "package"),
    ("Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com", "both"),
    ("Iframely/1.3.1 (+https://iframely.com/docs/about)", "package"),
    ("Mozilla/5.0 (compatible; Embedly/0.2; +http://support.embed.ly/)", "package"),
    ("Twitterbot/1.0", "both"),
    ("LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)", "both"),
    ("Mozilla/5.0 (compatible; line-poker/1.0)", "ours"),
    ("Mozilla/5.0 (compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app)", "ours"),
    ("Mozilla/5.0 (compatible; Google-HangoutsChat/1.0; +https://support.google.com/chat)", "ours"),
    ("Mozilla/4.0 (compatible; ms-office; MSOffice 16)", "ours"),
    ("Microsoft Office Existence Discovery", "ours"),
    ("Quora Link Preview/1.0 (http://www.quora.com)", "ours"),
    # monitors
    ("NewRelicPinger/1.0 (12345)", "ours"),
    ("Datadog/Synthetics", "ours"),
    ("Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)", "package"),
    # crawlers
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "both"),
    ("Mediapartners-Google", "package"),
    (
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
        "Mobile Safari/537.36 (compatible; AdsBot-Google-Mobile; +http://www.google.com/mobile/adsbot.html)",
        "package",
    ),
    ("Mozilla/5.0 (compatible; Yeti/1.1; +http://naver.me/bot)", "package"),
    ("anthropic-ai", "package"),
    (
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; +https://openai.com/bot",
        "package",
    ),
    ("FeedFetcher-Google; (+http://www.google.com/feedfetcher.html)", "ours"),
    # crawlers too new for any list, caught by the generic markers
    ("Mozilla/5.0 (compatible; AcmeNewBot/1.0; +https://acme.example/bot)", "ours"),
    ("Mozilla/5.0 (compatible; AcmeBot; +https://acme.example)", "ours"),
    ("AcmeCrawler 0.1", "ours"),
    ("Mozilla/5.0 (compatible; acme-spider)", "ours"),
    # spelt in lower case: the package's Googlebot pattern has case, our "bot/" has not
    ("mozilla/5.0 (compatible; googlebot/2.1; +http://www.google.com/bot.html)", "ours"),
]

PACKAGE_ONLY = bots.bot_matcher(bots.PACKAGE_PATTERNS, ())
OURS_ONLY = bots.bot_matcher((), bots.ADDITIONS)


@pytest.mark.parametrize("agent", list(BROWSERS.values()), ids=list(BROWSERS))
def test_browsers_and_in_app_browsers_are_not_bots(agent: str) -> None:
    assert is_bot(agent) is False
    assert bots.BOT_PATTERN.search(agent) is None


@pytest.mark.parametrize(("agent", "caught_by"), BOTS, ids=[agent[:60] for agent, _ in BOTS])
def test_bots_are_bots_and_each_list_catches_its_own(agent: str, caught_by: str) -> None:
    assert is_bot(agent) is True
    assert (PACKAGE_ONLY.search(agent) is not None) == (caught_by in ("package", "both"))
    assert (OURS_ONLY.search(agent) is not None) == (caught_by in ("ours", "both"))


@pytest.mark.parametrize("agent", [None, ""])
def test_no_user_agent_is_a_bot(agent: str | None) -> None:
    assert is_bot(agent) is True


def test_is_bot_is_cached() -> None:
    is_bot.cache_clear()
    is_bot(BROWSERS["chrome-windows"])
    is_bot(BROWSERS["chrome-windows"])
    assert is_bot.cache_info().hits == 1


@pytest.mark.parametrize("token", bots.ADDITIONS)
def test_every_line_of_ours_catches_an_example_the_package_misses(token: str) -> None:
    examples = [agent for agent, caught_by in BOTS if caught_by == "ours" and token in agent.lower()]
    assert examples, f"no example in BOTS that only {token!r} catches: add one, or drop the line"


def test_the_matcher_is_made_of_the_package_patterns_and_ours() -> None:
    package_count = len(crawleruseragents.CRAWLER_USER_AGENTS_DATA)
    assert package_count > 1000
    assert tuple(entry["pattern"] for entry in crawleruseragents.CRAWLER_USER_AGENTS_DATA) == bots.PACKAGE_PATTERNS
    assert bots.load_additions() == bots.ADDITIONS
    # our file holds only additions now: a few dozen lines, not a crawler list
    assert len(bots.ADDITIONS) < 60


def test_every_example_the_package_ships_is_a_bot() -> None:
    """The trie rewrite matches what the package's regexes match, on the package's own examples."""
    examples = [
        (entry["pattern"], agent)
        for entry in crawleruseragents.CRAWLER_USER_AGENTS_DATA
        for agent in entry.get("instances", [])
    ]
    assert len(examples) > 1000
    missed = [(pattern, agent) for pattern, agent in examples if PACKAGE_ONLY.search(agent) is None]
    assert missed == []


def test_package_patterns_keep_their_case_ours_do_not() -> None:
    assert PACKAGE_ONLY.search("Mozilla/5.0 (compatible; Yeti/1.1)") is not None
    assert PACKAGE_ONLY.search("mozilla/5.0 (compatible; yeti/1.1)") is None
    assert OURS_ONLY.search("POSTMANRUNTIME/7.39.0") is not None
    assert OURS_ONLY.search("postmanruntime/7.39.0") is not None


@pytest.mark.parametrize(
    ("pattern", "matching", "not_matching"),
    [
        ("^curl", ["curl/8.5.0"], ["PycURL curl/8", "Curl/8"]),
        ("(^| )sentry\\/", ["sentry/1.0", "Go sentry/1.0"], ["xsentry/1.0", "Sentry/1.0"]),
        ("[wW]get", ["Wget/1", "wget2/2"], ["WGET/1"]),
        ("Ahrefs(Bot|SiteAudit)", ["AhrefsBot/7", "AhrefsSiteAudit/6"], ["AhrefsBox", "ahrefsbot"]),
        ("AdsBot-Google([^-]|$)", ["AdsBot-Google", "AdsBot-Google (+http://x)"], ["AdsBot-Google-Mobile"]),
        ("Chirp|gotosocial", ["Chirp/1", "gotosocial/0.16"], ["chirp/1", "GoToSocial"]),
        ("SSL Labs$", ["Qualys SSL Labs"], ["SSL Labs scan"]),
        ("Current[\\s\\S]*RSS Reader", ["Current 2.0 RSS Reader"], ["Current 2.0"]),
        ("BlogTraffic\\/\\d\\.\\d+ Feed-Fetcher", ["BlogTraffic/4.12 Feed-Fetcher"], ["BlogTraffic/x Feed-Fetcher"]),
    ],
)
def test_rewritten_patterns_match_what_the_regex_matches(
    pattern: str, matching: list[str], not_matching: list[str]
) -> None:
    """Anchors, groups, classes and real regexes keep their meaning in the one matcher."""
    alone = bots.bot_matcher([pattern], ())
    for agent in matching + not_matching:
        assert (alone.search(agent) is not None) == (re.search(pattern, agent) is not None), agent
    assert all(alone.search(agent) for agent in matching)
    assert not any(alone.search(agent) for agent in not_matching)


def test_an_empty_matcher_matches_nothing() -> None:
    assert bots.bot_matcher((), ()).search("anything") is None
