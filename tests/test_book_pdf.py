"""The PDF printer and the local server it shares with the site test."""

from __future__ import annotations

import re
import urllib.request

import pytest

from course_tools.book_pdf import print_pdf, single_page
from course_tools.browser import served


def singlehtml(tmp_path, pages=("book/intro.html",), body="<p>text</p>"):
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=book/intro.html" />')
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "style.css").write_text("p { color: black; }")
    for page in pages:
        (tmp_path / page).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / page).write_text(
            f'<html><head><link rel="stylesheet" href="_static/style.css"></head><body>{body}</body></html>')
    return tmp_path


def test_served_folder_answers_on_localhost_and_stops(tmp_path):
    (tmp_path / "a.txt").write_text("hello")
    with served(tmp_path) as url:
        assert url.startswith("http://127.0.0.1:")
        assert urllib.request.urlopen(f"{url}/a.txt", timeout=10).read() == b"hello"
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{url}/a.txt", timeout=2)
    with pytest.raises(FileNotFoundError, match="folder=.*not a folder"):
        with served(tmp_path / "missing"):
            pass


def test_single_page_is_put_where_its_links_resolve(tmp_path):
    folder = singlehtml(tmp_path)
    page = single_page(folder)
    assert page.parent == folder and "_static/style.css" in page.read_text()
    assert single_page(folder) == page  # again: its own copy is not a second page


def test_single_page_says_what_is_wrong_with_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="singlehtml=.*no index.html"):
        single_page(tmp_path)
    with pytest.raises(ValueError, match="expected one page"):
        single_page(singlehtml(tmp_path, pages=("book/intro.html", "book/other.html")))


def test_print_pdf_writes_a_multi_page_pdf(tmp_path, chromium):
    long_code = "x = " + " + ".join(["1"] * 400)  # one long line: wraps instead of being cut
    body = "".join(f"<h2>Section {i}</h2><p>{'words ' * 200}</p>" for i in range(12))
    folder = singlehtml(tmp_path / "site", body=f"<pre>{long_code}</pre>{body}")
    out = print_pdf(single_page(folder), tmp_path / "pdf" / "book.pdf", chromium=chromium)
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page(?![a-z])", data)) > 1


def test_print_pdf_refuses_a_page_whose_math_is_not_typeset(tmp_path, chromium):
    # a page with math but no MathJax (as when its scripts are missing): raw TeX, no PDF
    folder = singlehtml(tmp_path / "site", body=r'<span class="math">\(x^2\)</span>')
    with pytest.raises(RuntimeError, match="MathJax did not load"):
        print_pdf(single_page(folder), tmp_path / "book.pdf", chromium=chromium)
    assert not (tmp_path / "book.pdf").exists()
