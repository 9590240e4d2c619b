"""The pinned npm files the site serves itself: integrity, extraction, cache, Sphinx settings."""

from __future__ import annotations

import fnmatch
import io
import tarfile
from types import SimpleNamespace

import pytest

from course_tools import site_assets
from course_tools.site_assets import NpmPackage, ensure_assets, extract, integrity_of, verified


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


FILES = {"package/dist/embed.js": b"js", "package/dist/font.woff2": b"font",
         "package/dist/embed.js.map": b"map", "package/README.md": b"readme"}
DATA = tarball(FILES)
PACKAGE = NpmPackage("@scope/thing", "1.2.3", integrity_of(DATA), folder="thing",
                     strip="package/dist/", keep=("embed.js", "*.woff2"))


def test_integrity_is_the_registry_format():
    # npm's "integrity" field: sha512 digest, base64
    assert integrity_of(b"") == ("sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+"
                                 "DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==")
    assert PACKAGE.tarball_name == "thing-1.2.3.tgz"


def test_a_tarball_that_does_not_match_its_pin_is_refused():
    assert verified(PACKAGE, DATA) == DATA
    with pytest.raises(ValueError, match=r"@scope/thing@1.2.3: tarball integrity .* pinned"):
        verified(PACKAGE, DATA + b"x")


def test_extract_keeps_only_the_files_pages_load(tmp_path):
    written = extract(PACKAGE, DATA, tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == ["embed.js", "font.woff2"]
    assert (tmp_path / "embed.js").read_bytes() == b"js"


def test_extract_refuses_paths_that_leave_the_folder_and_empty_selections(tmp_path):
    evil = tarball({"package/dist/../../../escape.js": b"x"})
    with pytest.raises(ValueError, match="unsafe path"):
        extract(NpmPackage("evil", "1", integrity_of(evil), "evil", "package/dist/", ("*.js",)),
                evil, tmp_path)
    with pytest.raises(ValueError, match="no file under"):
        extract(NpmPackage("x", "1", "", "x", "package/dist/", ("*.css",)), DATA, tmp_path)


def test_assets_are_fetched_once_and_refetched_when_a_pin_changes(tmp_path):
    calls = []

    def download(package):
        calls.append(package.name)
        return DATA

    first = ensure_assets(tmp_path, packages=(PACKAGE,), download=download)
    again = ensure_assets(tmp_path, packages=(PACKAGE,), download=download)
    assert first == again and calls == ["@scope/thing"]
    assert (first / "npm" / "thing" / "embed.js").read_bytes() == b"js"
    repinned = NpmPackage(**{**PACKAGE.__dict__, "version": "1.2.4"})
    assert ensure_assets(tmp_path, packages=(repinned,), download=download) != first
    assert calls == ["@scope/thing", "@scope/thing"]


def test_a_failed_fetch_says_what_to_do_and_leaves_nothing_half_done(tmp_path):
    def offline(package):
        raise OSError("network unreachable")

    with pytest.raises(RuntimeError, match=r"could not fetch @scope/thing@1.2.3 .*npm registry"):
        ensure_assets(tmp_path, packages=(PACKAGE,), download=offline)
    assert not list(tmp_path.rglob(".complete"))


def test_a_tampered_download_is_not_installed(tmp_path):
    with pytest.raises(ValueError, match="integrity"):
        ensure_assets(tmp_path, packages=(PACKAGE,), download=lambda p: DATA + b"x")
    assert not list(tmp_path.rglob("embed.js"))


def test_sphinx_settings_point_pages_at_the_local_copies(tmp_path, monkeypatch):
    monkeypatch.setattr(site_assets, "ensure_assets", lambda: tmp_path)
    config = SimpleNamespace(html_static_path=["theirs"], mathjax_path="https://cdn/x.js",
                             nb_ipywidgets_js={"https://cdn/require.js": {}})
    site_assets._use_local_assets(None, config)
    assert config.html_static_path == ["theirs", str(tmp_path)]
    assert config.mathjax_path == "npm/mathjax/tex-mml-chtml.js"
    scripts = list(config.nb_ipywidgets_js)
    assert scripts == ["npm/requirejs/require.js", "", "npm/html-manager/dist/embed-amd.js"]
    assert "require.config" in config.nb_ipywidgets_js[""]["body"]
    for path in (config.mathjax_path, scripts[0], scripts[2]):  # each is a file a package keeps
        package = next(p for p in site_assets.PACKAGES if path.split("/")[1] == p.folder)
        relative = path.split("/", 2)[2]
        assert any(fnmatch.fnmatch(relative, k) for k in package.keep), path
