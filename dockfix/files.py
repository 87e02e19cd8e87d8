"""Read and atomically rewrite source files without changing a single byte we did not mean to.

A formatter that silently re-encodes a file, drops its BOM, converts its line endings or leaves
it half-written after a crash destroys trust far faster than any formatting choice. So this
module keeps everything the rewriter does not own exactly as it was:

* Text is decoded as UTF-8 with ``errors="surrogateescape"``: bytes that are not valid UTF-8
  become lone surrogates and are turned back into the very same bytes on encoding.
* A UTF-8 BOM stays *in* the decoded text (``"\\ufeff"`` at index 0). The parser downstream is
  lossless and round-trips it like any other character; ``SourceFile.bom`` merely reports it.
* UTF-16 files (as written by Windows PowerShell's ``>``) are recognised by their BOM and
  written back as UTF-16 with the same byte order; the BOM again stays in the text.
* Line endings are never normalised; ``SourceFile.newline`` tells the rewriter which ending to
  use for lines it inserts.
* :func:`write_atomic` writes a temporary file next to the destination and renames it over the
  destination, so readers (and a crash) see either the old or the new file, never a mix.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import stat
from pathlib import Path

from dockfix.lazy_dataclass import dataclass

__all__ = [
    "FileProblem",
    "SourceFile",
    "describe_os_error",
    "dominant_newline",
    "encode_source",
    "read_source",
    "read_stdin_source",
    "write_atomic",
]

#: How far to look for a NUL byte before calling a file binary (the heuristic git and grep use).
BINARY_SNIFF_BYTES = 8192

#: Permission bits for a destination whose original mode is unknown (e.g. input from stdin).
DEFAULT_MODE = 0o644

_ERRORS = "surrogateescape"


class FileProblem(Exception):
    """A file could not be read or written; ``message`` is one clean line fit for the user.

    It replaces raw ``OSError``/``UnicodeError`` so the CLI can report "path: message" and go on
    with the next file instead of dumping a traceback.
    """

    def __init__(self, path: Path, message: str) -> None:
        message = " ".join(message.split("\n")).strip()
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message

    def __reduce__(self) -> tuple[type[FileProblem], tuple[Path, str]]:
        # Keep the exception picklable (e.g. across a process pool) despite the 2-arg __init__.
        return (type(self), (self.path, self.message))


@dataclass(frozen=True)
class SourceFile:
    """A decoded source file plus everything needed to write it back byte-exact."""

    path: Path
    #: Decoded text; a BOM is kept as ``"\\ufeff"`` at index 0, undecodable bytes as surrogates.
    text: str
    #: Codec for :func:`encode_source`: ``"utf-8"``, ``"utf-16-le"`` or ``"utf-16-be"``.
    encoding: str
    #: Whether the file starts with a byte order mark (which is also in ``text``).
    bom: bool
    #: Dominant line ending: ``"\\n"``, ``"\\r\\n"`` or ``"\\r"`` (``"\\n"`` if there is none).
    newline: str
    #: Permission bits of the file when it was read; ``None`` for stdin and non-regular files.
    mode: int | None


def dominant_newline(text: str) -> str:
    """Return the most common line ending in *text*; ties and line-less text favour ``"\\n"``.

    Mixed files exist (a CRLF file edited on Linux); new lines the rewriter adds should match
    the majority so the file does not get *more* mixed.
    """
    crlf = text.count("\r\n")
    counts = {"\n": text.count("\n") - crlf, "\r\n": crlf, "\r": text.count("\r") - crlf}
    best = max(counts.values())
    if best == 0:
        return "\n"
    return next(ending for ending, count in counts.items() if count == best)


def encode_source(text: str, encoding: str) -> bytes:
    """Encode *text* the way it was decoded, restoring undecodable bytes and any BOM exactly."""
    return text.encode(encoding, errors=_ERRORS)


def read_source(path: Path) -> SourceFile:
    """Read and decode *path*; raise :class:`FileProblem` for anything that is not a text file."""
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise FileProblem(path, "Is a directory")
        data = path.read_bytes()
    except OSError as exc:
        raise FileProblem(path, _reason(exc)) from exc
    mode = stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else None
    return _decode(path, data, mode)


def read_stdin_source(data: bytes) -> SourceFile:
    """Decode bytes read from standard input (the ``-`` argument); its path is ``Path("-")``."""
    return _decode(Path("-"), data, None)


def write_atomic(path: Path, text: str, like: SourceFile) -> None:
    """Replace the contents of *path* with *text*, encoded like *like*, all-or-nothing.

    The data goes to a temporary file in the destination's own directory (``os.replace`` is
    only atomic within one filesystem), is flushed and fsynced, gets *like*'s permission bits
    (and, where allowed, the old file's owner and group) and is then renamed over the
    destination. On any failure the temporary file is removed, the destination is untouched and
    :class:`FileProblem` is raised.

    Symlinks are resolved first and the *target* is replaced, so the link itself stays a link
    (as editors do); replacing the link would silently detach it from the file it shares.
    """
    try:
        data = encode_source(text, like.encoding)
    except UnicodeError as exc:
        reason = exc.reason if isinstance(exc, UnicodeEncodeError) else str(exc)
        raise FileProblem(path, f"cannot encode as {like.encoding}: {reason}") from exc
    import tempfile  # here: --check and --diff never write (tempfile imports shutil, random...)

    target = Path(os.path.realpath(path))
    if target.exists() and not os.access(target, os.W_OK):
        # Renaming over it would work (the folder is writable) but the user said no.
        raise FileProblem(path, "cannot write: the file is read-only")
    try:
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.dockfix-")
    except OSError as exc:
        raise FileProblem(path, f"cannot write: {_reason(exc)}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        _copy_metadata(target, Path(tmp_name), like.mode)
        os.replace(tmp_name, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError):
            raise FileProblem(path, f"cannot write: {_reason(exc)}") from exc
        raise
    _fsync_directory(target.parent)


def _decode(path: Path, data: bytes, mode: int | None) -> SourceFile:
    encoding = _utf16_encoding(data)
    if encoding is None:
        nul = data.find(b"\x00", 0, BINARY_SNIFF_BYTES)
        if nul != -1:
            raise _binary(path, nul)
        encoding = "utf-8"
        text = data.decode(encoding, errors=_ERRORS)
    else:
        text = data.decode(encoding)
        nul = text.find("\x00", 0, BINARY_SNIFF_BYTES // 2)
        if nul != -1:
            raise _binary(path, nul * 2)
    return SourceFile(
        path=path,
        text=text,
        encoding=encoding,
        bom=text.startswith("\ufeff"),
        newline=dominant_newline(text),
        mode=mode,
    )


def _utf16_encoding(data: bytes) -> str | None:
    """Return the UTF-16 codec if *data* really is BOM-marked UTF-16 text, else ``None``.

    ``b"\\xff\\xfe"`` is also a perfectly possible start of a Latin-1 file, so a BOM alone is not
    enough: UTF-16 is only assumed if the data contains NUL bytes (any mostly-ASCII text such as
    a Dockerfile does in UTF-16) and decodes strictly. Everything else takes the UTF-8 path,
    which round-trips arbitrary bytes.
    """
    if b"\x00" not in data[:BINARY_SNIFF_BYTES]:
        return None
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                data.decode(encoding)
            except UnicodeDecodeError:
                return None
            return encoding
    return None


def _binary(path: Path, offset: int) -> FileProblem:
    return FileProblem(path, f"binary file (NUL byte at offset {offset}), not a Dockerfile")


def _reason(exc: OSError) -> str:
    """A one-line reason without the path (the caller prefixes it) or errno noise."""
    return exc.strerror or str(exc) or type(exc).__name__


def describe_os_error(exc: OSError, path: Path | str) -> str:
    """``file not found: path`` and the like, for notes: never ``[Errno 2] ...: 'path'``."""
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {path}"
    if isinstance(exc, PermissionError):
        return f"permission denied: {path}"
    if isinstance(exc, IsADirectoryError):
        return f"a folder, not a file: {path}"
    return f"cannot read {path}: {(exc.strerror or type(exc).__name__).lower()}"


def _copy_metadata(original: Path, tmp: Path, mode: int | None) -> None:
    """Give *tmp* the permission bits (and owner, if possible) the rewritten file should keep.

    ``mkstemp`` creates files as 0600; without this a formatted script would lose its
    executable bit and a shared file would become private.
    """
    try:
        old = os.stat(original)
    except OSError:
        old = None
    if mode is None:
        mode = stat.S_IMODE(old.st_mode) if old is not None else DEFAULT_MODE
    os.chmod(tmp, mode)
    if old is not None and hasattr(os, "chown"):
        new = os.stat(tmp)
        if (new.st_uid, new.st_gid) != (old.st_uid, old.st_gid):
            # Only root (or a member of the group) may do this; otherwise keep our own owner.
            with contextlib.suppress(OSError):
                os.chown(tmp, old.st_uid, old.st_gid)
                os.chmod(tmp, mode)  # chown clears set-uid/set-gid bits


def _fsync_directory(directory: Path) -> None:
    """Persist the rename itself; best effort, as not every platform can open directories."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(directory, flags)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
