"""The pinned botocore wheel: where it is cached and how its data is read.

The corpus is built from one botocore release, fetched with pip from PyPI
(`pip download botocore==VERSION --no-deps`) into a cache directory, and
read straight from the wheel (a zip): nothing is installed or imported.
"""

import gzip
import json
import os
import subprocess
import sys
import zipfile

VERSION = "1.44.5"
WHEEL = f"botocore-{VERSION}-py3-none-any.whl"
DEFAULT_CACHE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".venv", "cache")


def wheel_path(cache=None, download=True):
    """The cached wheel, downloaded with pip when it is not there yet."""
    cache = os.path.normpath(cache or DEFAULT_CACHE)
    path = os.path.join(cache, WHEEL)
    if not os.path.exists(path):
        if not download:
            raise SystemExit(f"{path} is missing: run `make corpus`")
        os.makedirs(cache, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                        "--no-deps", "--only-binary", ":all:", f"botocore=={VERSION}", "-d", cache], check=True)
    return path


class Botocore:
    """The service data of the wheel: examples and models, by service."""

    def __init__(self, path):
        self.zip = zipfile.ZipFile(path)
        self.names = sorted(self.zip.namelist())

    def _load(self, name):
        raw = self.zip.read(name)
        if name.endswith(".gz"):
            raw = gzip.decompress(raw)
        return json.loads(raw)

    def _files(self, base):
        """(service, api version, member name) of every `base` file, newest
        api version only."""
        newest = {}
        for n in self.names:
            parts = n.split("/")
            if len(parts) == 5 and parts[:2] == ["botocore", "data"] and parts[4] in (base, base + ".gz"):
                svc, ver = parts[2], parts[3]
                if svc not in newest or ver > newest[svc][0]:
                    newest[svc] = (ver, n)
        return [(svc, ver, n) for svc, (ver, n) in sorted(newest.items())]

    def examples(self):
        """(service, examples-1.json content) for every service that has one."""
        for svc, _, n in self._files("examples-1.json"):
            yield svc, self._load(n)

    def models(self):
        """(service, service-2.json content) for every service."""
        for svc, _, n in self._files("service-2.json"):
            yield svc, self._load(n)
