"""Files: written atomically (a reader never sees a half-written file, an interrupt loses nothing) and read
with one clear error (a :class:`~deepmad_pyomo.errors.DesignError` naming the file) when they cannot be."""
from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

from .errors import DesignError


def _umask() -> int:
    """The process umask, read without changing it (``os.umask`` can only be read by setting it)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path: str | Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=1) + "\n")


def plain(obj: Any) -> Any:
    """Tuples -> lists, recursively (for YAML and JSON dumps)."""
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return obj


def safe_name(text: str) -> str:
    """A file-name-safe version of ``text`` (a run's key): letters, digits and ``._-`` kept, the rest ``_``."""
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in text)


# ------------------------------------------------------------------------------------------ reading
MAX_FILE_CHARS = 64 << 20  # the longest file read: problem, architecture and model files are kilobytes
def read_text(path: str | Path, what: str = "file", valid: str | None = None) -> str:
    """The text of ``path``. A missing or unreadable file, one that is not UTF-8 text, or one larger than
    :data:`MAX_FILE_CHARS` characters (``/dev/zero``) raises a :class:`DesignError` whose field is the path; ``what``
    names the file's kind in the message and ``valid`` says what the file should be."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as f:
            text = f.read(MAX_FILE_CHARS + 1)
    except OSError as e:
        raise DesignError(str(path), f"cannot read {what}: {e.strerror or e}", valid) from None
    except UnicodeDecodeError as e:
        raise DesignError(str(path), f"not a text file ({e.reason} at byte {e.start})", valid) from None
    if len(text) > MAX_FILE_CHARS:
        raise DesignError(str(path), f"longer than {MAX_FILE_CHARS >> 20} Mi characters", valid)
    return text


def parse_json(text: str, path: str | Path, valid: str | None = None) -> Any:
    """``text`` (read from ``path``) as JSON; invalid JSON raises a :class:`DesignError` naming the path and line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DesignError(str(path), f"not valid JSON (line {e.lineno}: {e.msg})", valid) from None
    except RecursionError:
        raise DesignError(str(path), "not valid JSON (nested too deeply)", valid) from None
    except ValueError as e:  # a number Python cannot hold, as an integer of more than 4300 digits
        raise DesignError(str(path), f"not valid JSON ({_first_line(e)})", valid) from None


class _YamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader, reading ``1.82e9`` and ``4e9`` as numbers as YAML 1.2 and JSON do (YAML 1.1
    wants a dot and a signed exponent, ``4.0e+9``, and reads the others as strings)."""


_YamlLoader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
                                  list("-+.0123456789"))


def read_yaml(text: str) -> Any:
    """The data of a YAML document (safe: plain data only), numbers in exponent form read as numbers."""
    return yaml.load(text, Loader=_YamlLoader)  # noqa: S506 (a SafeLoader)


def parse_yaml(text: str, path: str | Path, valid: str | None = None) -> Any:
    """``text`` (read from ``path``) as YAML; invalid YAML raises a :class:`DesignError` naming the path."""
    try:
        return read_yaml(text)
    except yaml.YAMLError as e:
        raise DesignError(str(path), f"not valid YAML: {_first_line(e)}", valid) from None
    except RecursionError:
        raise DesignError(str(path), "not valid YAML (nested too deeply)", valid) from None
    except (ValueError, TypeError, OverflowError) as e:  # a value PyYAML cannot build: 2001-13-45, !!float abc
        raise DesignError(str(path), f"not valid YAML ({_first_line(e)})", valid) from None


def _first_line(error: Exception) -> str:
    """The first line of an error's message, cut to 100 characters."""
    lines = str(error).splitlines() or [type(error).__name__]
    return lines[0][:100]


def read_json(path: str | Path, what: str = "file", valid: str | None = None) -> Any:
    """A JSON file's content (errors as :func:`read_text` and :func:`parse_json`)."""
    return parse_json(read_text(path, what, valid), path, valid)


def read_data(path: str | Path, what: str = "file", valid: str | None = None) -> Any:
    """A data file's content: JSON when its name ends in ``.json``, YAML otherwise."""
    text = read_text(path, what, valid)
    return parse_json(text, path, valid) if Path(path).suffix == ".json" else parse_yaml(text, path, valid)


def read_json_or_none(path: str | Path) -> Any:
    """A JSON file's content, or ``None`` when it is missing, unreadable or not JSON (a resumed batch redoes
    the run whose record it is)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return None
