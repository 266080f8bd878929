"""servegate's own code and data as one fingerprint: what every memo entry that holds a
result of servegate's code (``results``, ``scopes``) is keyed on, so that an edited rule,
schema or profile is never answered from an entry an older servegate wrote."""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

#: Data folders shipped beside the package in a development checkout.
_DATA = ("schemas", "policies", "environments")


@cache
def code_fingerprint() -> str:
    """servegate's package and data files by path, size and modification time: any edit to
    the code, a rule, a schema or a shipped profile gives a new fingerprint."""
    from servegate import __version__
    from servegate.datafiles import data_dir

    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parents[1]
    folders = [package]
    for name in _DATA:
        try:
            folder = data_dir(name)
        except FileNotFoundError:
            continue
        if not folder.is_relative_to(package):  # a wheel keeps them in the package already
            folders.append(folder)
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return digest.hexdigest()
