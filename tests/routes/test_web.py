"""What every page shares: security headers, caching, compression, errors and htmx fragments."""

from __future__ import annotations

import gzip

from routes.web import STATIC, templates
from tests.factories import ROUND_RULES, Browser, create_scheme_ok, create_user_ok, field_error, html, text_of


async def test_pages_carry_a_strict_content_security_policy(client):
    response = await client.get("/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert response.headers["cache-control"] == "no-store"


async def test_a_response_keeps_the_headers_it_set_itself_and_gets_each_protective_header_once(client):
    own = await client.get("/branding.css")  # sets its own Cache-Control
    assert own.status_code == 200
    assert own.headers.get_list("cache-control") == [own.headers["cache-control"]] and own.headers["cache-control"].startswith("public, max-age=")
    for name in ("content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options", "permissions-policy"):
        assert len(own.headers.get_list(name)) == 1, name
    assert "strict-transport-security" not in own.headers  # only in production, behind HTTPS


async def test_no_page_has_inline_script_or_style(client):
    page = html(await client.get("/signin"))
    assert all(node.attributes.get("src") for node in page.css("script"))
    assert not page.css("style") and not page.css("[style]")


async def test_static_files_have_versioned_urls_cached_for_a_year_and_compressed(client):
    page = html(await client.get("/"))
    css = page.css_first("link[rel=stylesheet]").attributes["href"]
    assert "?v=" in css
    response = await client.get(css, headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-encoding"] == "gzip"
    # Compressed once at the smallest level, not by the pages' middleware, and the same bytes as on disk.
    on_disk = (STATIC / css.split("?")[0].removeprefix("/static/")).read_bytes()
    assert response.content == on_disk and response.headers["content-type"].startswith("text/css")
    assert response.num_bytes_downloaded == len(gzip.compress(on_disk, compresslevel=9, mtime=0))
    assert response.headers["vary"] == "Accept-Encoding"
    plain = await client.get(css, headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == on_disk
    again = await client.get(css, headers={"accept-encoding": "gzip", "if-none-match": response.headers["etag"]})
    assert again.status_code == 304


async def test_htmx_is_vendored_at_version_2(client):
    page = html(await client.get("/"))
    src = next(n.attributes["src"] for n in page.css("script") if "htmx" in n.attributes["src"])
    body = (await client.get(src)).text
    assert 'version:"2.0.' in body.replace(" ", "")


async def test_branding_comes_from_the_council(app, council):
    council.brand_colour = "#123456"
    await council.save()
    async with Browser(app, council) as browser:
        page = html(await browser.get("/"))
        assert text_of(await browser.get("/"), ".govuk-header__product-name") == [council.name]
        branding = next(n.attributes["href"] for n in page.css("link[rel=stylesheet]") if "branding" in n.attributes["href"])
        assert "#123456" in (await browser.get(branding)).text


async def test_unknown_page_is_a_friendly_404(client):
    response = await client.get("/no-such-page")
    assert response.status_code == 404
    assert text_of(response, "h1") == ["Page not found"]


async def test_officer_pages_send_anonymous_visitors_to_sign_in_and_back(client):
    response = await client.get("/officer")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/officer"


async def test_resident_gets_a_friendly_403_on_officer_pages(client, council):
    await client.signin_as(await create_user_ok(council))
    response = await client.get("/officer")
    assert response.status_code == 403
    assert text_of(response, "h1") == ["You cannot do that"]


async def test_htmx_form_error_returns_only_the_form_fragment(client):
    response = await client.post("/signin", {"email": "nope"}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "<html" not in response.text
    assert html(response).css_first("#signin-form .govuk-error-summary") is not None
    assert response.headers["vary"].startswith("HX-Request")


async def test_htmx_post_that_succeeds_redirects_the_whole_page(client):
    response = await client.post("/signin", {"email": "hx@example.test"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == "/signin/check-email"


async def test_an_htmx_post_back_to_its_own_page_at_an_anchor_reloads_the_page(app, council):
    # A jump to an anchor on the page the form is on loads nothing: the news looked unposted, the form
    # still full, no message, and organisers posted again. HX-Refresh has htmx load it afresh.
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser=organiser)
    news = f"http://{council.hostnames.split(',')[0]}/schemes/{scheme.slug}/news"
    async with Browser(app, council) as browser:
        await browser.signin_as(organiser)
        posted = await browser.post(f"/schemes/{scheme.slug}/news", {"title": "Open on Monday", "body": "From 10am."}, headers={"HX-Request": "true", "HX-Current-URL": news})
        elsewhere = await browser.post(f"/schemes/{scheme.slug}/news", {"title": "Closed at Christmas", "body": "Back on 2 January."}, headers={"HX-Request": "true", "HX-Current-URL": news.replace("/news", "")})
    assert posted.status_code == 200 and posted.headers["hx-redirect"].startswith(f"/schemes/{scheme.slug}/news#post-")
    assert posted.headers["hx-refresh"] == "true"
    # Posted from another page (or to another page), the redirect loads a page anyway: no second load.
    assert elsewhere.headers["hx-redirect"].startswith(f"/schemes/{scheme.slug}/news#post-") and "hx-refresh" not in elsewhere.headers


async def test_health_check_reports_the_database(client):
    response = await client.get("/healthz")
    assert response.json() == {"status": "ok"}


async def test_menu_shows_officer_links_only_to_officers(app, council):
    async with Browser(app, council) as resident, Browser(app, council) as officer:
        await resident.signin_as(await create_user_ok(council))
        await officer.signin_as(await create_user_ok(council, role="officer"))
        assert "Officer home" not in text_of(await resident.get("/"), ".govuk-service-navigation__list a")
        assert "Officer home" in text_of(await officer.get("/"), ".govuk-service-navigation__list a")


async def test_gzip_compresses_pages(client):
    response = await client.get("/signin", headers={"accept-encoding": "gzip"})
    assert response.headers.get("content-encoding") == "gzip"


async def test_trusted_hosts_refuse_other_host_names(settings, database, council):
    from dataclasses import replace

    from routes import create_app

    app = create_app(replace(settings, trusted_hosts=council.hostnames))
    async with Browser(app, council) as good, Browser(app, host="evil.example") as bad:
        assert (await good.get("/healthz")).status_code == 200
        assert (await bad.get("/healthz")).status_code == 400
    from civic import config

    config.use(settings)


async def test_junk_host_names_do_not_grow_the_council_cache_and_each_council_is_still_found_at_its_host(settings, database, council):
    from routes import create_app
    from routes.middleware import OTHER_HOSTS, CouncilMiddleware
    from tests.factories import create_council_ok

    app = create_app(settings)
    async with Browser(app, council) as browser:
        assert text_of(await browser.get("/"), ".govuk-header__product-name") == [council.name]
    layer = app.middleware_stack
    while not isinstance(layer, CouncilMiddleware):
        layer = layer.app
    for n in range(OTHER_HOSTS + 100):
        async with Browser(app, host=f"x{n}.attacker.example") as junk:
            assert (await junk.get("/healthz")).status_code == 200
    kept = sum(len(value) for name, value in vars(layer).items() if name != "app" and not isinstance(value, str) and hasattr(value, "__len__"))
    assert kept <= OTHER_HOSTS + 1  # the other hosts, and councils' own host names read as one
    made_since = await create_council_ok()
    for each in (council, made_since):
        async with Browser(app, each) as browser:
            assert text_of(await browser.get("/"), ".govuk-header__product-name") == [each.name]
    from civic import config

    config.use(settings)


async def test_menu_marks_only_the_current_section(app, council):
    async with Browser(app, council) as officer:
        await officer.signin_as(await create_user_ok(council, role="officer"))
        current = text_of(await officer.get("/officer/concerns"), ".govuk-service-navigation__item--active")
    assert current == ["Concerns"]


async def test_the_menu_button_starts_hidden_so_without_javascript_the_whole_menu_shows(client):
    page = html(await client.get("/schemes"))
    button = page.css_first(".govuk-service-navigation__toggle")
    menu = page.css_first(".govuk-service-navigation__list")
    assert button.text(strip=True) == "Menu" and button.attributes["type"] == "button"
    assert "hidden" in button.attributes and button.attributes["aria-hidden"] == "true"
    assert button.attributes["aria-controls"] == menu.attributes["id"]
    assert "hidden" not in menu.attributes
    current = page.css_first(".govuk-service-navigation__link[aria-current=page]")
    assert current.css_first("strong.govuk-service-navigation__active-fallback").text() == "Schemes"


async def test_rate_limited_form_is_swapped_in_by_htmx(client):
    import json

    config = json.loads(html(await client.get("/")).css_first('meta[name="htmx-config"]').attributes["content"])
    swapped = {rule["code"] for rule in config["responseHandling"] if rule["swap"]}
    assert {"422", "429"} <= swapped


async def test_an_unexpected_error_is_a_friendly_500_page(settings, database, council):
    import httpx
    from starlette.routing import Route

    from civic import config
    from routes import create_app

    async def broken(request):
        raise RuntimeError("a bug")

    app = create_app(settings)
    app.router.routes.append(Route("/broken", broken))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{council.hostnames}") as client:
        response = await client.get("/broken")
    config.use(settings)
    assert response.status_code == 500
    assert text_of(response, "h1") == ["Sorry, there is a problem with the service"]
    assert "a bug" not in response.text


async def test_past_capacity_concerns_go_first_others_wait_their_turn_and_anonymous_browsing_is_turned_away(settings, council):
    import asyncio
    import dataclasses

    from routes import create_app
    from tests.factories import create_round_ok

    # One request in hand at a time, and anonymous pages turned away once one request is waiting.
    app = create_app(dataclasses.replace(settings, max_in_hand=1, shed_at=1))
    round_ = await create_round_ok(council)
    async with Browser(app, council) as holder, Browser(app, council) as visitor, Browser(app, council) as reporter, Browser(app, council) as voter:
        await voter.signin_as(await create_user_ok(council))
        assert (await visitor.get("/schemes")).status_code == 200
        token = await holder.csrf_token()
        gate = asyncio.Event()

        async def slow_form():  # a ballot whose body is still arriving: the one request in hand
            yield b"shares-1=50"
            await gate.wait()
            yield b"&csrftoken=" + token.encode()

        headers = {"content-type": "application/x-www-form-urlencoded"}
        held = asyncio.create_task(holder.http.post(f"/rounds/{round_.id}/ballot", content=slow_form(), headers=headers))
        await asyncio.sleep(0.1)
        ballot = asyncio.create_task(voter.get(f"/rounds/{round_.id}/ballot"))
        await asyncio.sleep(0.1)
        assert not ballot.done()  # a signed-in voter waits their turn

        busy = await visitor.get("/schemes")  # one is waiting: anonymous browsing is turned away
        assert busy.status_code == 503 and busy.headers["retry-after"] == "30"
        assert "Very busy right now" in busy.text and html(busy).css_first("a[href='/concerns']") is not None
        # Who to call if someone is in danger now: this council's numbers, as on the concern form.
        phones = [a.attributes["href"] for a in html(busy).css("a.app-emergency__number")]
        assert phones == [f"tel:{council.emergency_phone.replace(' ', '')}", f"tel:{council.childrens_front_door_phone.replace(' ', '')}"]
        assert "script-src 'self'" in busy.headers["content-security-policy"]
        assert (await visitor.get("/")).status_code == 503

        # Telling us about a concern goes straight in, past everyone waiting.
        assert (await reporter.get("/concerns")).status_code == 200
        assert (await reporter.get("/concerns/new/about")).status_code == 200
        assert (await reporter.post("/concerns/new/about", {"about": "neighbour", "subject_name": ""})).status_code == 303

        # So does signing in, which waits on the mail relay or an identity provider.
        assert (await visitor.get("/signin")).status_code == 200
        assert (await visitor.post("/signin", {"email": "busy@example.test"})).status_code == 303

        listing = asyncio.create_task(voter.get("/schemes"))
        gone = asyncio.create_task(voter.get("/schemes"))  # someone who gives up while waiting
        await asyncio.sleep(0.1)
        assert not listing.done()
        gone.cancel()
        gate.set()
        assert (await held).status_code == 403  # not signed in: refused once its body has arrived
        assert (await ballot).status_code == 200 and (await listing).status_code == 200
        # Back under capacity, with no place lost to the one who gave up.
        for _ in range(3):
            assert (await asyncio.wait_for(visitor.get("/schemes"), 5)).status_code == 200


async def test_a_form_whose_sender_left_before_its_body_arrived_is_dropped_quietly_not_answered_with_a_500(app, council):
    # Under a surge a form may wait its turn (AdmissionMiddleware) until its sender has given up.
    sent: list[dict] = []
    host = council.hostnames.split(",")[0].encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/schemes/new", "raw_path": b"/schemes/new", "query_string": b"", "root_path": "",
        "headers": [(b"host", host), (b"content-type", b"application/x-www-form-urlencoded"), (b"content-length", b"40"), (b"cookie", b"csrftoken=abc")],
        "client": ("10.0.0.9", 40000), "server": ("civic.test", 80),
    }

    async def receive() -> dict:
        return {"type": "http.disconnect"}  # the body never comes: they closed the page

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent == []


def test_routes_of_one_area_never_shadow_anothers(app):
    # routes/__init__.py orders areas by traffic, which is safe only while no URL is matched by
    # routes of two areas: then the order cannot change which page answers.
    import re

    from starlette.routing import Match, Route

    routes = [r for r in app.routes if isinstance(r, Route)]
    areas = {id(r): ".".join(r.endpoint.__module__.split(".")[:2]) for r in routes}  # routes.concerns.triage -> routes.concerns
    assert len(set(areas.values())) > 10
    for route in routes:
        for sample in ("1", "abc", "new", "check"):
            path = re.sub(r"\{[^}]+\}", sample, route.path)
            for method in route.methods or {"GET"}:
                scope = {"type": "http", "path": path, "method": method, "root_path": ""}
                matching = {areas[id(r)] for r in routes if r.matches(scope)[0] != Match.NONE}
                assert len(matching) == 1, f"{method} {path} is matched by routes in {sorted(matching)}"


def test_routes_filed_by_first_word_answer_as_starlettes_loop_would(app):
    # routes.routing tries only the routes filed under a path's first word: for every route's path
    # (and a wrong method, and near misses), it must pick the route Starlette's own loop picks.
    import re

    from starlette.routing import Match, Route

    from routes.routing import IndexedRoutes

    index = app.router.middleware_stack
    assert isinstance(index, IndexedRoutes)
    index.choose({"type": "http", "path": "/", "method": "GET", "root_path": ""})  # files the routes
    assert len(index.by_word["schemes"]) < len(app.routes) / 2  # filing leaves most routes untried

    def starlettes_choice(scope: dict) -> object:
        partial = None
        for route in app.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return route
            if match is Match.PARTIAL and partial is None:
                partial = route
        return partial

    checked = 0
    for route in [r for r in app.routes if isinstance(r, Route)]:
        for sample in ("1", "abc", "new"):
            path = re.sub(r"\{[^}]+\}", sample, route.path)
            for variant in (path, path + "x", path.rstrip("/") + "/", "/" + path.lstrip("/").split("/", 1)[0]):
                for method in ("GET", "POST", "DELETE"):
                    scope = {"type": "http", "path": variant, "method": method, "root_path": ""}
                    assert (index.choose(scope) or [None])[0] is starlettes_choice(scope), f"{method} {variant}"
                    checked += 1
    assert checked > 2000


async def test_a_route_filed_by_first_word_still_answers_405_redirects_a_slash_and_404s(client):
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.post("/healthz", {})).status_code == 405
    slash = await client.get("/schemes/", follow_redirects=False)
    assert slash.status_code in (301, 302, 307, 308) and slash.headers["location"].endswith("/schemes")
    assert (await client.get("/no-such-word/at-all")).status_code == 404


def _uses_and_imports(template: str) -> tuple[set[str], list[tuple[str, str | None]]]:
    """The names a template imports outside every block, and each use of an imported name with the
    innermost block it sits in, paired with whether that block imports the name itself."""
    from jinja2 import nodes

    tree = templates.env.parse(templates.env.loader.get_source(templates.env, template)[0])
    top: set[str] = set()
    uses: list[tuple[str, str | None]] = []

    def walk(node: nodes.Node, block: nodes.Block | None, own: set[str]) -> None:
        if isinstance(node, nodes.Block):
            block, own = node, {n.target for n in node.body if isinstance(n, nodes.Import)}
        elif isinstance(node, nodes.Import) and block is None:
            top.add(node.target)
        elif isinstance(node, nodes.Name) and node.ctx == "load":
            uses.append((node.name, block.name if block is not None and node.name in own else None))
        for child in node.iter_child_nodes():
            walk(child, block, own)

    walk(tree, None, set())
    return top, uses


def test_no_page_imports_a_macro_file_twice_on_every_render():
    """A block that htmx asks for alone (jinja2-fragments) must import its macros itself; an import of the
    same file outside the blocks as well runs the file again on every full page ("with context" imports
    are never cached): 5% of a ballot view."""
    twice = []
    for template in templates.env.list_templates(extensions=["html"]):
        top, uses = _uses_and_imports(template)
        for name in top:
            used = [block for used_name, block in uses if used_name == name]
            if used and all(block is not None for block in used):
                twice.append(f"{template}: {name}")
    assert not twice, twice


async def test_an_id_too_big_for_its_column_is_a_404_not_a_500(app, council):
    # Handed to the database, a 30-digit id was refused there (out of int32 range): a 500.
    async with Browser(app, council) as browser:
        await browser.signin_as(await create_user_ok(council, role="officer"))
        for path in ("/officer/moderation/posts/{}/hide", "/officer/moderation/people/{}/restore", "/officer/rounds/{}"):
            for id_ in ("9" * 30, str(2**31), "9" * 5000, "٣"):
                assert (await browser.get(path.format(id_))).status_code == 404, (path, id_[:12])
        # A choice too big to be an id is refused like any unknown one, next to its field.
        form = {**ROUND_RULES, "wards": "9" * 30}
        page = await browser.post("/officer/rounds", form)
        assert page.status_code == 422 and "Choose wards of this council" in field_error(page, "wards")
        assert (await browser.get("/schemes", params={"ward": "9" * 30})).status_code == 200  # the filter is ignored
