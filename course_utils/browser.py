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
