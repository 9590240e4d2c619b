"""The book as one PDF: Sphinx's single-page HTML build, printed by headless Chromium.

``make pdf`` builds the single page (``jupyter-book build --builder custom --custom-builder
singlehtml``, sharing ``make book``'s execution cache), then runs
``python -m course_tools.book_pdf _build/singlehtml _build/pdf/book.pdf``. The page is
served on localhost (``course_tools.browser``) so MathJax and the images load as on the site.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from course_tools.browser import find_chromium, served, settle

# Code and outputs wrap instead of running off the paper; folded cells (the check cells) and
# the page's buttons are not printed.
PRINT_CSS = """
pre, .output pre, .cell_output pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
details.hide:not([open]), .headerlink, .copybtn { display: none !important; }
"""


def single_page(singlehtml: Path) -> Path:
    """The one page of a singlehtml build, placed where its relative links resolve.

    Sphinx writes the whole book into the root document's file (``book/intro.html`` here) with
    links relative to the build folder, so the page is copied to the folder's top.
    """
    singlehtml = Path(singlehtml)
    redirect = singlehtml / "index.html"
    if not redirect.exists():
        raise FileNotFoundError(f"singlehtml={singlehtml}: no index.html; build it first (make pdf)")
    book = singlehtml / "book_for_print.html"
    pages = [p for p in singlehtml.rglob("*.html")
             if p not in (redirect, book) and "_static" not in p.parts]
    if len(pages) != 1:
        raise ValueError(f"singlehtml={singlehtml}: expected one page besides index.html, "
                         f"found {[str(p.relative_to(singlehtml)) for p in pages]}")
    shutil.copyfile(pages[0], book)
    return book


def print_pdf(html: Path, out: Path, chromium: str | None = None) -> Path:
    """Print ``html`` (served from its folder) to ``out`` as an A4 PDF."""
    from playwright.sync_api import sync_playwright

    html, out = Path(html), Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with served(html.parent) as url, sync_playwright() as playwright:
        executable = chromium or find_chromium()
        if executable is None:
            raise FileNotFoundError("no Chromium found: install Debian's `chromium` package "
                                    "(apt-get install chromium) to print the book")
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{url}/{html.name}", wait_until="networkidle", timeout=300_000)
        if settle(page)["math"] == "MathJax did not load":
            raise RuntimeError(f"html={html}: MathJax did not load; the PDF would show raw TeX")
        page.add_style_tag(content=PRINT_CSS)
        page.emulate_media(media="print")
        page.pdf(path=str(out), format="A4", print_background=True,
                 margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"})
        browser.close()
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("singlehtml", type=Path, help="a singlehtml build folder")
    parser.add_argument("out", type=Path, help="the PDF to write")
    args = parser.parse_args(argv)
    out = print_pdf(single_page(args.singlehtml), args.out)
    print(f"PDF written: {out} ({out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
