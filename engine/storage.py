"""Where uploaded files live: one small interface, the filesystem by default.

`put` stores bytes under a new random name and returns that name (the key); `get` reads them back;
`delete` removes them. Keys are 32 random hex digits, never a user's file name, so a name cannot
choose a path, and the folder (`LOTSE_DOCUMENTS_DIR`, by default `instance/documents`) lies outside
the web root: files are only ever sent through a view that checked who may read them.

An S3-compatible store is not built yet (see docs/architecture.md); it would implement the same three
methods and be chosen here by a setting.
"""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Protocol

from engine.settings import setting

_KEY = re.compile(r"^[0-9a-f]{32}$")


class Storage(Protocol):
    def put(self, data: bytes) -> str: ...
    def get(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...


class FileStorage:
    """Files in one folder, two levels of fan-out by the key's first characters."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key or ""):
            raise KeyError(key)
        return self.root / key[:2] / key

    def put(self, data: bytes) -> str:
        key = secrets.token_hex(16)
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        with open(partial, "xb") as out:            # x: never overwrite
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        partial.rename(path)                        # a reader never sees half a file
        return key

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass


def storage() -> Storage:
    """The configured store."""
    return FileStorage(setting("DOCUMENTS_DIR") or Path("instance") / "documents")
