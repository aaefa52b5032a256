"""Static files under URLs that name their content, kept by browsers for a year.

Every `url_for("static", filename=…)`, in a template or in Python, gets `?v=` and a short hash of the file's
bytes (an `url_defaults` hook: templates name files as before). A request carrying the file's current version
is answered `Cache-Control: public, max-age=31536000, immutable`, so a browser does not ask again until a page
names another version, which new bytes get. Without a version, or with another one (a page rendered before a
deploy, a typed URL), the answer keeps Flask's `no-cache` with an ETag: revalidated on each use.

The files a bundle loads by relative URL (fonts, images under dist/assets/) carry no version, but esbuild names
them by their content's hash (`assetNames` in assets/build.mjs), so their URLs change with their bytes too and
they are served for a year as well.

A version is hashed once per file per process (a deploy starts new processes). In development (debug, or
`lotse serve` on this machine: `recheck`) a file whose modification time changed is hashed again, so a rebuilt
bundle reaches the browser without a restart.
"""
import hashlib
import os
import stat

from flask import Flask, request, send_from_directory
from werkzeug.security import safe_join

ONE_YEAR = 31536000
NAMED_BY_CONTENT = "dist/assets/"       # esbuild's assetNames: "assets/[name]-[hash]" in dist/


class StaticVersions:
    """The version of each file under the app's static folder, by its name there."""

    def __init__(self, app: Flask):
        self.app = app
        self.recheck = app.debug
        self._known: dict[str, tuple[int, str]] = {}       # filename: (mtime_ns, version)

    def __call__(self, filename: str, recheck: bool = False) -> str | None:
        """The file's version, or None if there is no such file (its link then stays as it was)."""
        known = self._known.get(filename)
        if known is not None and not (recheck or self.recheck):
            return known[1]
        path = safe_join(self.app.static_folder, filename)       # None for a name outside the folder
        if path is None:
            return None
        try:
            found = os.stat(path)
            if not stat.S_ISREG(found.st_mode):
                return None
            if known is not None and known[0] == found.st_mtime_ns:
                return known[1]
            with open(path, "rb") as file:
                version = hashlib.file_digest(file, "sha256").hexdigest()[:12]
        except OSError:
            return None
        self._known[filename] = (found.st_mtime_ns, version)
        return version


def versions(app: Flask) -> StaticVersions:
    return app.extensions["lotse_static_versions"]


def init_app(app: Flask) -> None:
    known = app.extensions["lotse_static_versions"] = StaticVersions(app)

    def add_version(endpoint, values):
        # runs for every url_for: anything but a static file's link leaves at the first comparison
        if endpoint == "static" and "v" not in values:
            version = known(values["filename"]) if "filename" in values else None
            if version is not None:
                values["v"] = version

    def static(filename):
        """Flask's static view, with a year's caching for a file asked for by its current version (checked
        against the file's modification time: the promise holds for the bytes sent)."""
        current = filename.startswith(NAMED_BY_CONTENT) or (
            "v" in request.args and request.args["v"] == known(filename, recheck=True))
        response = send_from_directory(app.static_folder, filename, max_age=ONE_YEAR if current else None)
        if current:
            response.cache_control.public = True
            response.cache_control.immutable = True
        return response

    app.url_defaults(add_version)
    app.view_functions["static"] = static
