"""A new user's walk through the demo (`lotse demo` on the bundled processes), once per demo login, on a phone:
every same-origin link on the landing page and two levels below (there without a list's sort and filter
variants) answers 200 (no 500, no 404 or 403 behind a link the app itself shows), no page is wider than the
phone, and one page of each kind passes axe. The crawl that found the overflowing form groups and the outbox
table at 390 px.

A page's kind is its view (the Flask endpoint) and, for the process files, the file's kind (a BPMN, form or DMN
file has its own editor and detail page). Pages of one kind share their template and differ in the objects
shown: axe on one of each covers every template a login reaches (for the process owner: one check per editor, not
one per form and diagram).

The first page of each kind is loaded in Chromium as a user opens it (its scripts, then axe). Every further page
is asked over HTTP with the login's cookies (it must answer 200; the walk follows the links in its HTML), and one
the server renders is then laid out in Chromium at the phone's width: its HTML written into the open page
(`set_content`, no navigation), with the app's style sheets. Its text (names, notes, tables) differs from object to
object, so every such page must fit the phone; the server's pages have no inline script or style, so the open
page's Content-Security-Policy lays them out as their own would. A page a script draws from a file is drawn once
per kind: the process editors (bpmn-js, form-js, dmn-js) and the version comparison (two bpmn-js diagrams) are the
editor's canvas, sized by the style sheet whatever the file, and their other text is the file's name and key,
which its detail page (laid out for every file) shows too; a comparison's lists of changes are checked on a phone
in test_process_versions.py. So is the API's documentation, the same page for every login, drawn by Swagger UI:
test_api_pages.py draws it on a phone (width, axe in four states), and the walk only asks it over HTTP. And so
are the process files' pages in any walk but the process owner's: they show every login that may open them (the
admin too) the same files, and the process owner's walk lays them out."""
import re
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlparse

import pytest
from werkzeug.exceptions import HTTPException

from engine import demo

from tests.browser.axe import axe_violations, describe
from tests.conftest import deploy_bundle

PHONE = {"width": 390, "height": 844}
ROLES = ["berater", "leitung", "prozess", "admin", "dueren", "jansen", "schmitz"]
NOT_PAGES = re.compile(r"^/(logout|static/)|/(download|files)(/|$)|\.(pdf|png|jpe?g|csv|zip|bpmn|dmn|form|svg)$")
# for the failure message: the last (innermost) elements wider than the phone or reaching past its edge
WIDEST = """() => [...document.querySelectorAll('*')].filter(e => e.scrollWidth > innerWidth + 1 || e.getBoundingClientRect().right > innerWidth + 1)
  .slice(-4).map(e => `${e.tagName.toLowerCase()}.${e.className} ${e.id} sw=${e.scrollWidth} r=${Math.round(e.getBoundingClientRect().right)}`)"""


# drawn by a script from a file: drawn once per kind, then only asked over HTTP (see above)
DRAWN_BY_SCRIPT = {"processes.edit", "processes.draft", "processes.compare"}
# never drawn in the walk: asked over HTTP
FETCHED = {"api_docs_page.docs"}
# the login whose walk draws the process files' pages (the endpoints of the `processes` blueprint)
PROCESS_OWNER = "prozess"


def page_kind(urls, path):
    """The page a path shows, whatever object: its endpoint, with the process file's kind where it has one."""
    try:
        endpoint, args = urls.match(path, method="GET")
    except HTTPException:       # no such page (the walk reports its answer) or a redirect
        return None, None
    return endpoint, args.get("kind")


class _Hrefs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a" and dict(attrs).get("href"):
            self.hrefs.append(dict(attrs)["href"])


def hrefs_in(html, base):
    """The links of a page's HTML as the browser resolves them (`a.href`)."""
    parser = _Hrefs()
    parser.feed(html)
    return [urljoin(base, href) for href in parser.hrefs]


def same_origin_links(hrefs, origin):
    urls = []
    for href in hrefs:
        url = urldefrag(href)[0]
        parts = urlparse(url)
        if parts.netloc == origin and not NOT_PAGES.search(parts.path):
            urls.append(re.sub(r"[?&]next=[^&]*", "", url))       # a back link's target is not another page
    return urls


def how_drawn(kind, opened_kinds, draws_process_files):
    """"open" (loaded in Chromium), "lay out" (asked over HTTP, its HTML laid out in the open page) or "fetch"
    (asked over HTTP only): see above."""
    endpoint = kind[0] or ""
    if endpoint in FETCHED or (endpoint.startswith("processes.") and not draws_process_files):
        return "fetch"
    if kind not in opened_kinds:
        return "open"
    return "fetch" if endpoint in DRAWN_BY_SCRIPT else "lay out"


def too_wide(page, url):
    """A problem if the page as laid out now is wider than the phone, naming the widest elements."""
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        return f"{url}: {width}px wide on a {PHONE['width']}px phone: {page.evaluate(WIDEST)}"


def walk(page, origin, urls, draws_process_files):
    landing = page.url
    queue, seen, problems, opened_kinds = [(landing, 0, "login")], set(), [], set()
    while queue:
        url, depth, source = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        how = how_drawn(page_kind(urls, urlparse(url).path), opened_kinds, draws_process_files)
        if how == "open":
            response = page.goto(url)
            if response.status != 200:
                problems.append(f"{url}: HTTP {response.status} (linked from {source})")
                continue
            kind = page_kind(urls, urlparse(page.url).path)       # after a redirect: the page it shows
            problems.append(too_wide(page, url))
            if kind not in opened_kinds:
                opened_kinds.add(kind)
                violations = axe_violations(page)
                if violations:
                    problems.append(f"{url}: axe\n{describe(violations)}")
            # evaluate, not a Playwright selector: a selector makes Playwright set up its script in each new page
            hrefs = page.evaluate("[...document.querySelectorAll('a[href]')].map(e => e.href)")
        else:
            answer = page.context.request.get(url)
            if answer.status != 200:
                problems.append(f"{url}: HTTP {answer.status} (linked from {source})")
                continue
            html = answer.text()
            if how == "lay out":
                page.set_content(html)
                problems.append(too_wide(page, url))
            hrefs = hrefs_in(html, answer.url)
        if depth < 2:
            links = [link for link in same_origin_links(hrefs, origin) if link not in seen]
            if depth == 1:      # below the landing page's links: pages, not a list's sort and filter variants
                links = [link for link in links if not urlparse(link).query]
            queue += [(link, depth + 1, url) for link in links]
    return seen, [problem for problem in problems if problem]


@pytest.mark.parametrize("username", ROLES)      # one test per login, so that parallel workers share the walks
def test_every_demo_user_reaches_working_pages_from_the_landing_page(ctx, browser, live_server, username):
    deploy_bundle()
    demo.load()
    context = browser.new_context(base_url=live_server.url, locale="de-DE", viewport=PHONE)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Benutzername").fill(username)
        page.get_by_label("Passwort").fill(demo.PASSWORD)
        page.press("input[name=password]", "Enter")
        page.wait_for_load_state()
        assert urlparse(page.url).path != "/login", f"{username} could not log in"
        seen, problems = walk(page, urlparse(live_server.url).netloc, ctx.url_map.bind("localhost"),
                              draws_process_files=username == PROCESS_OWNER)
    finally:
        context.close()
    assert not problems, "\n".join(problems)
    assert len(seen) > 1, "the landing page links nowhere"
