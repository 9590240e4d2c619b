"""The scripts the book's pages need, served with the site instead of from CDNs.

A Jupyter Book 1.x page loads MathJax (math), RequireJS and the Jupyter widgets HTML manager
(saved ipywidgets and ``tqdm.auto`` bars) from CDNs at read time, so a reader with no network
sees raw ``\\(...\\)`` math and blank widgets. This Sphinx extension takes pinned npm packages at
build time instead (``npm pack``, or the registry's tarball URL where npm is missing), checks
each tarball against its pinned sha512 integrity, keeps the files that pages load in a cache,
and points the pages at copies under ``_static/npm/`` in the built site.

Enabled in _config.yml (``sphinx: local_extensions``). ``python -m course_tools.site_assets``
fetches the files and prints where they are.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

VENDOR = "npm"  # folder under the site's _static/ (the theme already has a _static/vendor/)


@dataclass(frozen=True)
class NpmPackage:
    name: str        # npm name, e.g. "@jupyter-widgets/html-manager"
    version: str     # exact version
    integrity: str   # "sha512-<base64>", as the registry publishes it
    folder: str      # where its files go, under _static/npm/
    strip: str       # prefix removed from paths in the tarball
    keep: tuple[str, ...]  # glob patterns (after strip) of the files the pages load

    @property
    def tarball_name(self) -> str:
        return f"{self.name.rsplit('/', 1)[-1]}-{self.version}.tgz"


PACKAGES = (
    # MathJax 3, the component Sphinx loads by default, with what it loads on demand
    # (TeX extensions, CHTML fonts, the menu and its accessibility parts). No speech engine.
    NpmPackage("mathjax", "3.2.2",
               "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
               folder="mathjax", strip="package/es5/",
               keep=("tex-mml-chtml.js", "input/*", "output/chtml*", "ui/*", "a11y/*",
                     "adaptors/*")),
    NpmPackage("requirejs", "2.3.8",
               "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
               folder="requirejs", strip="package/", keep=("require.js",)),
    # The widget manager for ipywidgets 8 pages, with the icon fonts it loads beside itself.
    NpmPackage("@jupyter-widgets/html-manager", "1.0.15",
               "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
               folder="html-manager", strip="package/",
               keep=("dist/embed-amd.js", "dist/*.woff2", "dist/*.woff", "dist/*.ttf")),
)

# Paths under _static/ that the pages load (Sphinx puts relative script paths under _static/).
MATHJAX_PATH = f"{VENDOR}/mathjax/tex-mml-chtml.js"
# The widget manager loads its icon fonts from beside the module RequireJS thinks it came from:
# by default "<page folder>/@jupyter-widgets/html-manager/dist/", which does not exist.
# An inline script (path "") between the two tells RequireJS where the module really is.
REQUIRE_CONFIG = ("require.config({paths: {'@jupyter-widgets/html-manager': "
                  f"document.documentElement.dataset.content_root + '_static/{VENDOR}/html-manager'}}}});")
WIDGETS_JS = {f"{VENDOR}/requirejs/require.js": {},
              "": {"body": REQUIRE_CONFIG},
              f"{VENDOR}/html-manager/dist/embed-amd.js": {}}


def cache_dir() -> Path:
    return Path(os.environ.get("COURSE_SITE_ASSETS_DIR",
                               Path.home() / ".cache" / "course_utils" / "site_assets"))


def integrity_of(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def download_tarball(package: NpmPackage) -> bytes:
    """The package's tarball, through npm where it is installed, else from the registry URL."""
    if shutil.which("npm"):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["npm", "pack", f"{package.name}@{package.version}",
                            "--pack-destination", tmp, "--silent"],
                           check=True, stdout=subprocess.DEVNULL, timeout=300)
            (tarball,) = Path(tmp).glob("*.tgz")  # one package, one tarball
            return tarball.read_bytes()
    registry = os.environ.get("npm_config_registry", "https://registry.npmjs.org/").rstrip("/")
    url = f"{registry}/{package.name}/-/{package.tarball_name}"
    with urllib.request.urlopen(url, timeout=120) as response:
        return response.read()


def verified(package: NpmPackage, data: bytes) -> bytes:
    found = integrity_of(data)
    if found != package.integrity:
        raise ValueError(f"{package.name}@{package.version}: tarball integrity {found[:24]}... "
                         f"does not match the pinned {package.integrity[:24]}...")
    return data


def extract(package: NpmPackage, data: bytes, destination: Path) -> list[Path]:
    """Write the tarball's files matching ``package.keep`` under ``destination``."""
    written = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            if not (member.isfile() and member.name.startswith(package.strip)):
                continue
            relative = member.name[len(package.strip):]
            if ".." in Path(relative).parts:
                raise ValueError(f"{package.name}: unsafe path in tarball: {member.name}")
            if not any(fnmatch.fnmatch(relative, pattern) for pattern in package.keep):
                continue
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.extractfile(member).read())
            written.append(target)
    if not written:
        raise ValueError(f"{package.name}: no file under {package.strip!r} matches {package.keep}")
    return written


def ensure_assets(root: Path | None = None, packages=PACKAGES, download=download_tarball) -> Path:
    """A folder holding ``npm/<package folder>/...`` for every pinned package; fetched once.

    The folder's name depends on the pins, so a changed pin fetches anew.
    """
    pins = "".join(f"{p.name}@{p.version}:{p.integrity}" for p in packages)
    static = Path(root or cache_dir()) / hashlib.sha256(pins.encode()).hexdigest()[:12]
    for package in packages:
        target = static / VENDOR / package.folder
        done = target / ".complete"
        if done.exists():
            continue
        shutil.rmtree(target, ignore_errors=True)
        try:
            data = download(package)
        except Exception as error:  # no npm, no registry: say what is missing, and the cure
            raise RuntimeError(
                f"could not fetch {package.name}@{package.version} from the npm registry "
                f"({error}); the site serves it itself so that pages render offline. "
                "Build once with access to the npm registry (the files are then cached in "
                f"{static.parent}, or set COURSE_SITE_ASSETS_DIR)") from error
        extract(package, verified(package, data), target)
        done.write_text(f"{package.name}@{package.version}\n")
    return static


def _use_local_assets(app, config) -> None:
    static = ensure_assets()
    config.html_static_path = [*config.html_static_path, str(static)]
    config.mathjax_path = MATHJAX_PATH
    config.nb_ipywidgets_js = dict(WIDGETS_JS)


def setup(app):
    app.connect("config-inited", _use_local_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    print(ensure_assets())
