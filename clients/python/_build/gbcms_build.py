"""A PEP 517 build backend in the standard library alone: it packs gbcms_report/ into a wheel
(and the folder into an sdist). It exists so `pip install ./clients/python` works offline: a
backend like setuptools would first be downloaded into pip's isolated build environment."""
from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import zipfile
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME = "gbcms_report"
DIST = "gbcms-report"


def _version() -> str:
    with open(os.path.join(HERE, NAME, "__init__.py"), encoding="utf-8") as source:
        for line in source:
            if line.startswith("__version__"):
                return line.split("=", 1)[1].strip().strip("\"'")
    raise RuntimeError("gbcms_report/__init__.py has no __version__")


def _metadata() -> str:
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as readme:
        description = readme.read()
    return (
        "Metadata-Version: 2.1\n"
        f"Name: {DIST}\n"
        f"Version: {_version()}\n"
        "Summary: Report metrics, progress and outcomes of long-running code to a gbcms server\n"
        "License: MIT\n"
        "Requires-Python: >=3.9\n"
        "Description-Content-Type: text/markdown\n\n"
        f"{description}"
    )


def _package_files() -> List[Tuple[str, str]]:
    """(path in the wheel, path on disk) of every file of the package, sorted."""
    files = []
    for folder, dirs, names in os.walk(os.path.join(HERE, NAME)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if name.endswith((".py", ".typed")):
                path = os.path.join(folder, name)
                files.append((os.path.relpath(path, HERE).replace(os.sep, "/"), path))
    return files


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def _dist_info() -> str:
    return f"{NAME}-{_version()}.dist-info"


def _dist_info_files() -> Dict[str, bytes]:
    info = _dist_info()
    return {
        f"{info}/METADATA": _metadata().encode("utf-8"),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: gbcms_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/top_level.txt": f"{NAME}\n".encode(),
    }


def get_requires_for_build_wheel(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: Optional[Dict[str, Any]] = None) -> str:
    for path, data in _dist_info_files().items():
        target = os.path.join(metadata_directory, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as out:
            out.write(data)
    return _dist_info()


def build_wheel(
    wheel_directory: str,
    config_settings: Optional[Dict[str, Any]] = None,
    metadata_directory: Optional[str] = None,
) -> str:
    filename = f"{NAME}-{_version()}-py3-none-any.whl"
    records = []
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as wheel:
        for arcname, path in _package_files():
            with open(path, "rb") as source:
                data = source.read()
            wheel.writestr(arcname, data)
            records.append(_record_line(arcname, data))
        for arcname, data in _dist_info_files().items():
            wheel.writestr(arcname, data)
            records.append(_record_line(arcname, data))
        record = f"{_dist_info()}/RECORD"
        records.append(f"{record},,")
        wheel.writestr(record, "\n".join(records) + "\n")
    return filename


def build_sdist(sdist_directory: str, config_settings: Optional[Dict[str, Any]] = None) -> str:
    base = f"{NAME}-{_version()}"
    filename = f"{base}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as sdist:
        for name in ("pyproject.toml", "README.md", "_build/gbcms_build.py"):
            sdist.add(os.path.join(HERE, name), f"{base}/{name}")
        for arcname, path in _package_files():
            sdist.add(path, f"{base}/{arcname}")
        pkg_info = _metadata().encode("utf-8")
        entry = tarfile.TarInfo(f"{base}/PKG-INFO")
        entry.size = len(pkg_info)
        sdist.addfile(entry, io.BytesIO(pkg_info))
    return filename
