"""QR codes of links: what a phone reads from them, their bounds, who may have them, and caching."""

from __future__ import annotations

import io
import secrets
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from PIL import Image

from api import db
from api.errors import RuleRefused
from api.services import links, qr
from conftest import SECRET_KEYS

REPORTING = {"subId1": "story-42", "subId2": "reel", "sharedid": "spring"}


def decode_png(content: bytes) -> str:
    """What a phone's scanner reads from the picture (zxing-cpp, the decoder of many Android apps)."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(content)))
    assert len(found) == 1, f"expected one code, found {len(found)}"
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    return str(found[0].text)


@pytest.fixture
def link(client, world, auth):  # type: ignore[no-untyped-def]
    """A short link of the partner with reporting info, as the API answered it."""
    response = client.post("/api/v1/links", headers=auth(world.partner), json={"task_id": world.task.id, **REPORTING})
    assert response.status_code == 201
    return response.json


@pytest.mark.parametrize("kind", ["short", "regular"])
def test_png_decodes_to_the_full_link_with_its_reporting_info(client, world, auth, kind) -> None:
    made = client.post(
        "/api/v1/links", headers=auth(world.partner), json={"task_id": world.task.id, "kind": kind, **REPORTING}
    ).json
    response = client.get(f"/api/v1/links/{made['id']}/qr.png", headers=auth(world.partner))
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert decode_png(response.data) == made["url"]
    assert "subId1=story-42" in made["url"] and "sharedid=spring" in made["url"]


def test_display_url_on_request(client, world, auth, link) -> None:
    response = client.get(f"/api/v1/links/{link['id']}/qr.png?encode=display_url", headers=auth(world.partner))
    assert response.status_code == 200
    assert decode_png(response.data) == link["display_url"]
    assert link["display_url"] != link["url"]


def test_svg_is_an_svg_picture_of_the_same_link(client, world, auth, link) -> None:
    response = client.get(f"/api/v1/links/{link['id']}/qr.svg?scale=4&margin=2", headers=auth(world.partner))
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    svg = ET.fromstring(response.data)
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert svg.findtext("{http://www.w3.org/2000/svg}title") == link["url"]
    # The same code as the PNG: drawn from the same text, module for module.
    side = int(svg.get("width", "0"))
    png = Image.open(
        io.BytesIO(client.get(f"/api/v1/links/{link['id']}/qr.png?scale=4&margin=2", headers=auth(world.partner)).data)
    )
    assert png.size == (side, side)


def test_scale_and_margin_set_the_size(client, world, auth, link) -> None:
    def width(query: str) -> int:
        response = client.get(f"/api/v1/links/{link['id']}/qr.png?{query}", headers=auth(world.partner))
        assert response.status_code == 200
        return int(Image.open(io.BytesIO(response.data)).size[0])

    modules = width("scale=1&margin=0")
    assert width("") == (modules + 2 * qr.DEFAULT_MARGIN) * qr.DEFAULT_SCALE
    assert width(f"scale={qr.MAX_SCALE}&margin={qr.MAX_MARGIN}") == (modules + 2 * qr.MAX_MARGIN) * qr.MAX_SCALE
    # Still readable at both ends of the bounds (zxing needs a quiet zone of at least one module).
    for query in ("scale=1&margin=1", f"scale={qr.MAX_SCALE}&margin={qr.MAX_MARGIN}"):
        response = client.get(f"/api/v1/links/{link['id']}/qr.png?{query}", headers=auth(world.partner))
        assert decode_png(response.data) == link["url"]


@pytest.mark.parametrize("fmt", ["png", "svg"])
@pytest.mark.parametrize(
    "query",
    [
        "scale=0",
        f"scale={qr.MAX_SCALE + 1}",
        "scale=-3",
        "scale=2.5",
        "scale=big",
        "scale=" + "9" * 40,
        "margin=-1",
        f"margin={qr.MAX_MARGIN + 1}",
        "margin=x",
        "encode=landing_url",
        "encode=URL",
    ],
)
def test_out_of_bounds_is_a_400_naming_the_parameter(client, world, auth, link, fmt, query) -> None:
    response = client.get(f"/api/v1/links/{link['id']}/qr.{fmt}?{query}", headers=auth(world.partner))
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_query"
    assert response.json["error"]["message"].startswith(query.split("=")[0])


def test_another_partners_link_is_not_found_like_an_unknown_one(client, world, auth, link) -> None:
    for fmt in ("png", "svg"):
        theirs = client.get(f"/api/v1/links/{link['id']}/qr.{fmt}", headers=auth(world.other_partner))
        unknown = client.get(f"/api/v1/links/{link['id'] + 1000}/qr.{fmt}", headers=auth(world.partner))
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.json == unknown.json


def test_without_a_partner_token_is_401(client, world, link) -> None:
    assert client.get(f"/api/v1/links/{link['id']}/qr.png").status_code == 401
    advertiser = {"Authorization": f"Bearer {world.api_key}"}
    assert client.get(f"/api/v1/links/{link['id']}/qr.png", headers=advertiser).status_code == 401


def test_cacheable_by_the_partner_only_and_revalidated_by_etag(client, world, auth, link) -> None:
    path = f"/api/v1/links/{link['id']}/qr.png"
    first = client.get(path, headers=auth(world.partner))
    assert first.headers["Cache-Control"] == "private, max-age=300"
    etag = first.headers["ETag"]
    assert etag.startswith('"qr-')
    again = client.get(path, headers={**auth(world.partner), "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    # Another size, format or text is another picture, with another tag.
    other_tags = {
        client.get(f"{path}?scale=3", headers=auth(world.partner)).headers["ETag"],
        client.get(f"{path}?encode=display_url", headers=auth(world.partner)).headers["ETag"],
        client.get(f"/api/v1/links/{link['id']}/qr.svg", headers=auth(world.partner)).headers["ETag"],
    }
    assert etag not in other_tags and len(other_tags) == 3
    stale = client.get(path, headers={**auth(world.partner), "If-None-Match": '"qr-0000"'})
    assert stale.status_code == 200 and stale.data == first.data
    # The tag never opens another partner's link.
    assert client.get(path, headers={**auth(world.other_partner), "If-None-Match": etag}).status_code == 404


def test_a_link_too_long_for_a_qr_code_is_a_422(client, world, auth) -> None:
    long_info = {"subId1": "a" * 255, "subId2": "b" * 255, "subId3": "c" * 255, "sharedid": "d" * 255}
    # Random text: a regular link's token compresses its landing URL, and this one must stay long.
    landing = "https://brand.test/" + secrets.token_urlsafe(1500)
    made = client.post(
        "/api/v1/links",
        headers=auth(world.partner),
        json={"task_id": world.task.id, "kind": "regular", "landing_url": landing, **long_info},
    )
    assert made.status_code == 201
    assert len(made.json["url"]) > 2953
    response = client.get(f"/api/v1/links/{made.json['id']}/qr.png", headers=auth(world.partner))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "qr_too_long"
    assert "display_url" in response.json["error"]["message"]


def test_the_service_is_what_the_admin_shows(engine, client, world, auth, link) -> None:
    """The admin draws codes with the same function, without HTTP: the same bytes as the API serves."""
    with db.reading(engine) as conn:
        stored = links.get_link(conn, world.partner.id, link["id"])
    base = link["url"].split("/s/")[0]
    code = qr.link_qr(stored, base, SECRET_KEYS, "png")
    served = client.get(f"/api/v1/links/{link['id']}/qr.png", headers=auth(world.partner))
    assert code.content == served.data
    assert f'"{code.etag}"' == served.headers["ETag"]
    assert decode_png(code.content) == link["url"]
    with pytest.raises(ValueError):
        qr.draw("x", "png", scale=qr.MAX_SCALE + 1)
    with pytest.raises(RuleRefused):
        qr.draw("x" * 3000, "png")
