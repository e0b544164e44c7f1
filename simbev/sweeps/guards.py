"""Checks a sweep makes before it runs or resumes: what the stored results were computed with,
whether the environment can compute more, and whether the executor asked for makes sense.

Resume guarantee: a sweep store records a fingerprint of everything that decides a sample's
numbers: the model and parameter code (``model``), the solvers' code including the compiled
kernel and its generator (``solver``), the compiled Rosenbrock method (``method``, from
``SIMBEV_FAST_METHOD``), whether the compiled path runs (``compiled``: the numba version, or
``none`` when the reference path stands in), and the code that turns a run into results
(``results``: metrics, the result object, the sweep runner). Resuming with any of them changed is
refused, naming what changed; the sweep's own settings (rtol, design, seed) are guarded by the
sweep hash.

Environment errors (an unusable ``SIMBEV_CACHE_DIR``, a compiled kernel that cannot be built)
abort the sweep with a :class:`ConfigurationError` before any sample runs, instead of being
stored as sample failures.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from ..errors import InputError, SimbevError

__all__ = ["ConfigurationError", "fingerprint", "changed", "check_environment", "check_scheduler",
           "check_workers", "max_workers", "FINGERPRINT_PARTS"]

_ROOT = Path(__file__).resolve().parents[1]

#: fingerprint part -> the source files (globs below simbev/) it hashes
FINGERPRINT_PARTS = {
    "model": ("model/*.py", "parameters/*.py", "parameters/sets/*.yaml", "protocol/*.py", "scenario/core.py"),
    "solver": ("solvers/*.py", "symbolic/*.py", "simulation.py"),
    "results": ("analysis/metrics.py", "result.py", "sweeps/run.py", "sweeps/file.py", "sweeps/designs.py"),
}


class ConfigurationError(SimbevError):
    """The environment cannot run the sweep (cache folder, compiled kernel, ...)."""


def _hash(patterns) -> str:
    digest = hashlib.sha256()
    for pattern in patterns:
        for path in sorted(_ROOT.glob(pattern)):
            digest.update(path.relative_to(_ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def check_environment() -> str:
    """Check that the compiled solver can run here; return its description (numba version, or
    ``none`` if the reference path stands in). Raises :class:`ConfigurationError`."""
    from ..solvers import compiled
    if not compiled.available():
        return "none"
    directory = compiled.cache_dir()
    for p in (directory, *directory.parents):
        if p.exists():
            if not p.is_dir():
                raise ConfigurationError(
                    f"SIMBEV_CACHE_DIR / the compiled-code cache {directory}: {p} is a file, not a folder; "
                    "point SIMBEV_CACHE_DIR at a writable folder")
            break
    try:
        compiled._load_kernel()
    except Exception as exc:  # noqa: BLE001 - any failure to build the kernel is the environment's
        raise ConfigurationError(f"the compiled solver cannot be built in {directory} "
                                 f"({type(exc).__name__}: {exc}); point SIMBEV_CACHE_DIR at a writable "
                                 "folder") from None
    import numba
    return numba.__version__


def fingerprint(check: bool = True) -> str:
    """The fingerprint of the code and solver configuration, as ``part=value`` pairs.

    With ``check`` the environment is checked first (:func:`check_environment`).
    """
    from ..solvers import compiled
    parts = {name: _hash(patterns) for name, patterns in FINGERPRINT_PARTS.items()}
    parts["method"] = compiled.METHOD
    parts["compiled"] = check_environment() if check else ("?" if compiled.available() else "none")
    return " ".join(f"{k}={v}" for k, v in parts.items())


_WHAT = {"model": "the model or parameter code", "solver": "the solvers' code (compiled kernel included)",
         "method": "the compiled solver's method (SIMBEV_FAST_METHOD)",
         "compiled": "the compiled path (numba version, or its absence)",
         "results": "the code computing results (metrics, sweep runner)"}


def changed(old: str | None, new: str) -> str:
    """What differs between two fingerprints, in words."""
    def parse(text):
        return dict(p.split("=", 1) for p in (text or "").split() if "=" in p)
    a, b = parse(old), parse(new)
    if not a or not b:
        return "the fingerprints are not comparable part by part (written by another simbev version)"
    diffs = [f"{_WHAT.get(k, k)}: {a.get(k, '-')} -> {b.get(k, '-')}" for k in b if a.get(k) != b.get(k)]
    return "; ".join(diffs) or "the fingerprint"


_ADDRESS = re.compile(r"^(?:(?:tcp|tls|inproc|ucx|ws|wss)://)?[A-Za-z0-9_.\-\[\]:]*[A-Za-z0-9_.\-\]]:\d{1,5}$")


def check_scheduler(address: str | None) -> None:
    """Refuse a ``--scheduler`` that is neither ``local`` nor ``[protocol://]host:port``."""
    if address is None or address == "local":
        return
    match = isinstance(address, str) and _ADDRESS.match(address)
    port = int(address.rsplit(":", 1)[1]) if match else 0
    if not match or not 0 < port < 65536:
        raise InputError(None, None, "--scheduler", address,
                         "'local' or the address of a Dask scheduler as [tcp://]host:port "
                         "(e.g. tcp://10.0.0.5:8786)")


def max_workers() -> int:
    """The most worker processes simbev starts on this machine: 4 per CPU core."""
    return 4 * (os.cpu_count() or 1)


def check_workers(workers) -> None:
    """Refuse a worker count below 1 or above :func:`max_workers`."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(None, None, "--workers", workers, "a whole number >= 1")
    if workers > max_workers():
        raise InputError(None, None, "--workers", workers,
                         f"at most {max_workers()} (4 per CPU core of this machine, which has "
                         f"{os.cpu_count() or 1}); more processes only add memory and switching")
