"""Public pages kept rendered for visitors who are not signed in (routes.web.public_page), each with its own CSRF token."""

from __future__ import annotations

import gzip
import zlib

from civic import accounts
from civic.schemes.models import Scheme
from routes import web
from routes.middleware import SESSION_COOKIE
from tests.factories import Browser, HTMLParser, create_scheme_ok, create_user_ok, html, text_of, use_settings


def _meta_token(response) -> str:
    return html(response).css_first('meta[name="csrf-token"]').attributes["content"]


async def test_a_kept_page_carries_each_visitors_own_csrf_token_and_their_forms_work(app, council):
    scheme = await create_scheme_ok(council, name="Kept Tea Club")
    with use_settings(public_cache_seconds=30):
        async with Browser(app, council) as first, Browser(app, council) as second:
            one = await first.get(f"/schemes/{scheme.slug}")
            key = (council.id, f"/schemes/{scheme.slug}", "", False)
            kept = web._kept_pages.get(key)
            assert kept is not None, "the page was not kept"
            first_token = first.http.cookies["csrftoken"]
            assert _meta_token(one) == first_token and first_token.encode() not in b"".join(kept.parts)
            two = await second.get(f"/schemes/{scheme.slug}")
            second_token = second.http.cookies["csrftoken"]
            assert web._kept_pages.get(key) is kept  # answered from the kept page
            assert second_token != first_token and _meta_token(two) == second_token and first_token not in two.text
            assert two.headers["content-type"].startswith("text/html") and "Cookie" in two.headers["vary"] and "HX-Request" in two.headers["vary"]
            assert two.text == one.text.replace(first_token, second_token)
            # The token on the kept page is the second visitor's: a form sent with it is accepted, and
            # one sent with the first visitor's is refused.
            answer = await second.http.post("/signin", data={"email": "tea@example.org", "csrftoken": _meta_token(two)})
            assert answer.status_code == 303, answer.status_code
            refused = await second.http.post("/signin", data={"email": "tea@example.org", "csrftoken": first_token})
            assert refused.status_code == 403


async def test_signed_in_people_and_visitors_with_something_in_their_session_get_the_page_afresh(app, council):
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser=organiser, name="Fresh Lunch Club")
    with use_settings(public_cache_seconds=30):
        async with Browser(app, council) as anonymous, Browser(app, council) as signed_in, Browser(app, council) as returning:
            await anonymous.get(f"/schemes/{scheme.slug}")
            await anonymous.get("/schemes?q=lunch")
            await signed_in.signin_as(organiser)
            own = await signed_in.get(f"/schemes/{scheme.slug}")
            assert f"/schemes/{scheme.slug}/edit" in own.text  # the organiser's own view, not the kept one
            # An anonymous visitor with a message waiting sees it, then the kept page again.
            token, _ = await accounts.open_session({"flash": [{"message": "Thank you, we have your concern.", "kind": "success"}]})
            returning.http.cookies.set(SESSION_COOKIE, token, domain=returning.host)
            first = await returning.get("/schemes?q=lunch")
            assert "Thank you, we have your concern." in first.text
            after = await returning.get("/schemes?q=lunch")
            assert "Thank you, we have your concern." not in after.text and "Fresh Lunch Club" in after.text


async def test_kept_pages_last_the_configured_time_and_each_search_and_fragment_is_kept_apart(app, council):
    scheme = await create_scheme_ok(council, name="Walking Group", summary="A walk for neighbours")
    with use_settings(public_cache_seconds=30):
        async with Browser(app, council) as visitor:
            page = await visitor.get("/schemes?q=walk")
            fragment = await visitor.get("/schemes?q=walk", headers={"HX-Request": "true"})
            other = await visitor.get("/schemes?q=nothing-like-it")
            assert "<html" in page.text and "<html" not in fragment.text and "Walking Group" in fragment.text
            assert "Walking Group" in page.text and "Walking Group" not in other.text
            await Scheme.filter(id=scheme.id).update(name="Renamed Walking Group")
            assert "Renamed" not in (await visitor.get("/schemes?q=walk")).text  # within the lifetime
    with use_settings(public_cache_seconds=0):
        async with Browser(app, council) as visitor:
            assert "Renamed Walking Group" in (await visitor.get("/schemes?q=walk")).text
            assert text_of(await visitor.get("/schemes?q=walk"), ".app-card__title") == ["Renamed Walking Group"]


async def _raw(browser: Browser, path: str, encoding: str) -> tuple[bytes, dict]:
    """The bytes as they came over the wire, not decoded, and the headers."""
    async with browser.http.stream("GET", path, headers={"accept-encoding": encoding}) as response:
        assert response.status_code == 200
        return b"".join([chunk async for chunk in response.aiter_raw()]), dict(response.headers)


async def test_a_kept_page_goes_out_gzipped_with_each_visitors_token_in_one_valid_stream(app, council):
    await create_scheme_ok(council, name="Gzip Gardening Club", summary="Digging, planting and weeding together")
    with use_settings(public_cache_seconds=30):
        async with Browser(app, council) as first, Browser(app, council) as second:
            await first.get("/schemes?q=gardening")  # rendered, and kept
            wire, headers = await _raw(second, "/schemes?q=gardening", "gzip, deflate")
            plain, plain_headers = await _raw(second, "/schemes?q=gardening", "identity")
            token = second.http.cookies["csrftoken"]
            assert token != first.http.cookies["csrftoken"]
    assert headers["content-encoding"] == "gzip" and "content-encoding" not in plain_headers
    assert headers["content-length"] == str(len(wire)) and len(wire) < len(plain) / 2
    assert "Accept-Encoding" in headers["vary"] and "HX-Request" in headers["vary"]
    # gzip.decompress checks the deflate stream, the CRC-32 and the length in the trailer.
    page = gzip.decompress(wire)
    assert page == plain and b"Gzip Gardening Club" in page
    assert HTMLParser(page.decode()).css_first('meta[name="csrf-token"]').attributes["content"] == token
    # One gzip member, as browsers expect: nothing follows the first member's trailer.
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert decoder.decompress(wire) == page and decoder.eof and decoder.unused_data == b""


def test_a_kept_page_with_the_token_in_several_places_even_first_and_last_decompresses_whole():
    token, other = b"tok.en-1", b"another.visitors-token"
    body = token + b"<p>" + b"neighbours helping neighbours " * 60 + b"</p><input value=" + token + b">" + b"x" * 700 + token
    kept = web.KeptPage(body, token, [])
    assert token not in b"".join(kept.parts) and len(kept.parts) == 4
    assert gzip.decompress(kept.gzipped(other)) == body.replace(token, other)
    assert kept.plain(other) == body.replace(token, other)
    no_token = web.KeptPage(b"<p>no form here</p>" * 40, token, [])
    assert gzip.decompress(no_token.gzipped(other)) == b"<p>no form here</p>" * 40
