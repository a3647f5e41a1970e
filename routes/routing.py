"""Routes looked up by the first part of the path, instead of tried one by one.

Starlette's router tries each route's regular expression in turn until one matches. civic has some
250 routes, and a ballot page used to wait behind every scheme route's expression, a health check
behind 140 of them. Every route's path starts with a fixed word (`/schemes/...`, `/rounds/...`), so the
routes are filed under that word at the first request (again if routes were added since), and a
request tries only those filed under its own, in their original order: the same route answers as
before, as `Router.app` would choose it
(the first full match, else the first partial one, for "405 Method Not Allowed"). A path that none of
them matches at all goes through Starlette's own loop, which redirects a missing or extra slash and
answers the 404.
"""

from __future__ import annotations

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import Receive, Scope, Send

# Filed under this key: routes whose first part is a parameter, tried for every path.
ANY = "\0any"


def first_word(path: str) -> str:
    """`/schemes/{slug}/news` -> "schemes"; a first part with a parameter in it -> ANY."""
    word = path.lstrip("/").split("/", 1)[0]
    return ANY if "{" in word else word


def _word_of(route: BaseRoute) -> str:
    if isinstance(route, Route) or (isinstance(route, Mount) and route.path):
        return first_word(route.path)
    return ANY  # a mount at the root, a Host or another kind of route could match any path


class IndexedRoutes:
    """The router's `middleware_stack`: `Router.app` over only the routes that could match."""

    def __init__(self, router: Router):
        self.router = router
        self.by_word: dict[str, list[BaseRoute]] = {}
        self.anywhere: list[BaseRoute] = []
        self._filed = -1  # how many routes were filed: a route added later (as tests do) files them again

    def _file(self) -> None:
        filed = [(route, _word_of(route)) for route in self.router.routes]
        by_word: dict[str, list[BaseRoute]] = {word: [] for _, word in filed}
        for route, word in filed:  # in order; a route that may match any path goes into every list
            for key in by_word if word == ANY else (word,):
                by_word[key].append(route)
        self.by_word, self.anywhere, self._filed = by_word, by_word.get(ANY, []), len(filed)

    def choose(self, scope: Scope) -> tuple[BaseRoute, Scope] | None:
        """The route `Router.app` would hand this request to, and what it adds to the scope; None if no route matches."""
        if self._filed != len(self.router.routes):
            self._file()
        word = get_route_path(scope).lstrip("/").split("/", 1)[0]
        partial = None
        for route in self.by_word.get(word, self.anywhere):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                return route, child_scope
            if match is Match.PARTIAL and partial is None:
                partial = route, child_scope
        return partial

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chosen = self.choose(scope) if scope["type"] == "http" else None
        if chosen is None:
            await self.router.app(scope, receive, send)  # lifespan, slashes redirected, or the 404
            return
        route, child_scope = chosen
        scope.setdefault("router", self.router)
        scope["route"] = route
        scope.update(child_scope)
        await route.handle(scope, receive, send)


def index(router: Router) -> None:
    """File the router's routes by first word (call once its routes are final)."""
    router.middleware_stack = IndexedRoutes(router)
