"""Stage and rename: the one way simbev writes a file or a folder of outputs.

Every writer (time series, summaries, SBML, sweep tables, figures, the compiled-code cache)
writes into a staging name next to its target and renames it into place only when the content
is complete, so a target is either complete or as it was, whatever kills the process.

- :func:`atomic_file` / :func:`write_text`: one file.
- :func:`staged`: a folder of outputs, written into a staging folder and moved into place; if
  the folder exists its files are replaced one by one after checking that none of them is in
  the way (a directory where a file goes), so it never ends half old, half new.
- Staging names are ``.<target>.simbev-tmp-<pid>-<random>``: :func:`clean_leftovers` removes
  those of processes that no longer run (killed mid-write), and every writer calls it on the
  folder it writes into.
- Folders created follow the umask (a staging folder is made private while it is written and
  gets the umask's mode when it is renamed into place).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from .errors import SimbevError

__all__ = ["StagingError", "TAG", "atomic_file", "write_text", "write_bytes", "staged", "Staged",
           "clean_leftovers", "check_parents"]

#: what every staging name contains
TAG = ".simbev-tmp-"


class StagingError(SimbevError):
    """An output cannot be written where it was asked for (a file in the way, ...)."""


def _prefix(target: Path) -> str:
    # Keep the staging name short: a long target name must fail at the final rename (which
    # leaves nothing), not at creating the staging name.
    return f".{target.name[:40]}{TAG}{os.getpid()}-"


def _pid_of(name: str) -> int | None:
    try:
        return int(name.split(TAG, 1)[1].split("-", 1)[0])
    except (IndexError, ValueError):
        return None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's running process
        return True
    return True


def clean_leftovers(directory) -> list[Path]:
    """Remove staging files and folders in ``directory`` left by processes that are gone.

    Returns what was removed. Staging names of running processes are left alone.
    """
    removed = []
    directory = Path(directory)
    try:
        entries = list(directory.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if TAG not in entry.name or not entry.name.startswith("."):
            continue
        pid = _pid_of(entry.name)
        if pid is None or _alive(pid):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()
        removed.append(entry)
    return removed


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_parents(target: Path) -> None:
    """Refuse a ``target`` below an existing file (``out/file.txt/x``) with a clear message."""
    for parent in Path(target).absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise StagingError(f"{target}: cannot write below {parent}, which is a file, not a directory")
            return


def _check_name(target: Path) -> None:
    """Refuse a name the file system cannot hold, before anything is created."""
    limit = 255
    for part in Path(target).parts:
        if len(os.fsencode(part)) > limit:
            raise StagingError(f"{str(target)[:60]}...: a file or folder name of {len(os.fsencode(part))} "
                               f"bytes; at most {limit} (choose a shorter name or --out)")


def _make_parents(target: Path) -> list[Path]:
    """Create the missing parents of ``target``; return those created, innermost first."""
    check_parents(target)
    created = []
    p = Path(target).absolute().parent
    while not p.exists():
        created.append(p)
        p = p.parent
    p = Path(target).absolute().parent
    p.mkdir(parents=True, exist_ok=True)
    return created


def _remove_created(created: list[Path]) -> None:
    for p in created:  # innermost first
        try:
            p.rmdir()
        except OSError:
            break


@contextlib.contextmanager
def atomic_file(path, mode: str = "w", encoding: str | None = "utf-8", newline: str | None = None):
    """Open a staging file for ``path``; on a clean exit it replaces ``path``, else it is removed.

    ``path`` must not be a directory (:class:`StagingError`).
    """
    path = Path(path)
    _check_name(path)
    if path.is_dir():
        raise StagingError(f"{path}: is a directory; expected the path of a file to write")
    created = _make_parents(path)
    clean_leftovers(path.absolute().parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_prefix(path), dir=path.absolute().parent)
    except OSError:
        _remove_created(created)
        raise
    os.fchmod(fd, 0o666 & ~_umask())
    tmp = Path(tmp)
    try:
        binary = "b" in mode
        with os.fdopen(fd, mode, encoding=None if binary else encoding,
                       **({} if binary else {"newline": newline})) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        _remove_created(created)
        raise


def write_text(path, text: str) -> Path:
    """Write ``text`` to ``path`` by stage and rename."""
    with atomic_file(path, "w") as fh:
        fh.write(text)
    return Path(path)


def write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` by stage and rename."""
    with atomic_file(path, "wb", encoding=None) as fh:
        fh.write(data)
    return Path(path)


class Staged:
    """A staging folder for the outputs that go to folder ``out`` (see :func:`staged`)."""

    def __init__(self, out):
        self.out = Path(out)
        _check_name(self.out)
        if self.out.exists() and not self.out.is_dir():
            raise StagingError(f"{self.out}: exists and is not a directory")
        self._created = _make_parents(self.out)
        parent = self.out.absolute().parent
        try:
            clean_leftovers(parent)
            if self.out.is_dir():
                clean_leftovers(self.out)
            self.dir = Path(tempfile.mkdtemp(prefix=_prefix(self.out), dir=parent))
        except BaseException:
            _remove_created(self._created)
            raise

    def path(self, name: str) -> Path:
        return self.dir / name

    def commit(self) -> None:
        """Move the staged outputs into ``out`` (renamed whole if ``out`` does not exist)."""
        if not self.out.exists():
            os.chmod(self.dir, 0o777 & ~_umask())
            os.replace(self.dir, self.out)
            return
        if not self.out.is_dir():
            raise StagingError(f"{self.out}: exists and is not a directory")
        items = sorted(self.dir.iterdir())
        # Check every target first, so that the folder never ends with some files replaced
        # and others not.
        for item in items:
            target = self.out / item.name
            if target.is_dir() and not target.is_symlink():
                raise StagingError(f"{target}: is a directory where simbev writes a file; move it away "
                                   f"or choose another output folder")
        for item in items:
            os.replace(item, self.out / item.name)
        self.dir.rmdir()

    def abort(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        _remove_created(self._created)


def staged(out, write: Callable[[Path], object]):
    """Call ``write(directory)`` on a staging folder; move its files to ``out`` if it succeeds.

    On any failure (including :class:`KeyboardInterrupt`) the staging folder and any parent
    folders created for it are removed and ``out`` is left as it was.
    """
    stage = Staged(out)
    try:
        value = write(stage.dir)
        stage.commit()
        return value
    except BaseException:
        stage.abort()
        raise
