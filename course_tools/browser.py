"""Headless Chromium on a folder served from localhost: the PDF printer and the site test use it.

Chromium is Debian's package (``apt-get install chromium``), driven by Playwright with its
executable path, so no browser is downloaded.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    """The path of an installed Chromium, or None."""
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


@contextmanager
def served(folder: Path | str):
    """Serve ``folder`` on 127.0.0.1 (a free port) while the block runs; yields the base URL."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"folder={folder}: not a folder to serve")
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


# Waits until a page is as a reader sees it: MathJax has typeset (where the page has math) and
# every image, lazy ones included, is loaded. Returns what it found.
_SETTLE = """async () => {
  let math = 'no math';
  if (document.querySelector('.math')) {
    for (let i = 0; i < 200 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
      await new Promise(r => setTimeout(r, 50));
    math = window.MathJax && MathJax.startup ? 'typeset' : 'MathJax did not load';
    if (math === 'typeset') await MathJax.startup.promise;
  }
  const images = [...document.images];
  images.forEach(img => { img.loading = 'eager'; });
  await Promise.all(images.map(img => img.decode().catch(() => null)));
  return {math, images: images.map(img => ({src: img.getAttribute('src'),
                                            alt: img.getAttribute('alt'),
                                            width: img.naturalWidth,
                                            content: !!img.closest('.cell_output, figure')}))};
}"""


def settle(page) -> dict:
    """Wait for ``page`` (Playwright) to typeset its math and load its images.

    Returns ``{"math": "no math" | "typeset" | "MathJax did not load", "images": [{"src", "alt",
    "width" (natural, 0 if it failed), "content" (a figure or cell output)}, ...]}``.
    """
    return page.evaluate(_SETTLE)
