"""Byte-exact reading and atomic writing of source files."""

from __future__ import annotations

import os
import pickle
import stat
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockfix import files
from dockfix.files import (
    FileProblem,
    SourceFile,
    dominant_newline,
    encode_source,
    read_source,
    read_stdin_source,
    write_atomic,
)

no_nul_bytes = st.binary(max_size=300).map(lambda data: data.replace(b"\x00", b""))


def _roundtrip(tmp_path: Path, data: bytes) -> SourceFile:
    path = tmp_path / "Dockerfile"
    path.write_bytes(data)
    source = read_source(path)
    assert encode_source(source.text, source.encoding) == data
    write_atomic(path, source.text, source)
    assert path.read_bytes() == data
    return source


@pytest.mark.parametrize(
    ("data", "newline"),
    [
        (b"", "\n"),
        (b"FROM alpine", "\n"),
        (b"FROM alpine\nRUN true\n", "\n"),
        (b"FROM alpine\r\nRUN true\r\n", "\r\n"),
        (b"FROM alpine\rRUN true\r", "\r"),
        (b"FROM alpine\r\nRUN a\nRUN b\r\nRUN c\r", "\r\n"),
        (b"FROM alpine\nRUN a\r\n", "\n"),
        (b"\xff\xfe latin1 \xe9", "\n"),
        (b"RUN echo caf\xe9 \xc3\xa9 \xed\xa0\x80\n", "\n"),
    ],
)
def test_roundtrip_is_byte_exact(tmp_path: Path, data: bytes, newline: str) -> None:
    source = _roundtrip(tmp_path, data)
    assert source.newline == newline
    assert source.encoding == "utf-8"
    assert not source.bom


def test_utf8_bom_stays_in_text(tmp_path: Path) -> None:
    source = _roundtrip(tmp_path, b"\xef\xbb\xbfFROM alpine\r\n")
    assert source.bom
    assert source.text == "\ufeffFROM alpine\r\n"
    assert source.newline == "\r\n"


def test_bom_only_file(tmp_path: Path) -> None:
    source = _roundtrip(tmp_path, b"\xef\xbb\xbf")
    assert source.bom and source.text == "\ufeff"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom_is_decoded_and_written_back(tmp_path: Path, encoding: str) -> None:
    data = "\ufeffFROM alpine\r\nRUN echo é\r\n".encode(encoding)
    source = _roundtrip(tmp_path, data)
    assert source.encoding == encoding
    assert source.bom
    assert source.text == "\ufeffFROM alpine\r\nRUN echo é\r\n"
    path = tmp_path / "Dockerfile"
    write_atomic(path, source.text.replace("é", "e"), source)
    assert path.read_bytes() == "\ufeffFROM alpine\r\nRUN echo e\r\n".encode(encoding)


def test_utf16_bom_on_non_utf16_bytes_falls_back_to_utf8(tmp_path: Path) -> None:
    source = _roundtrip(tmp_path, b"\xff\xfeFROM alpine\n")
    assert source.encoding == "utf-8"
    assert not source.bom


def test_edited_text_keeps_undecodable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"from alpine\nLABEL x=\xe9\n")
    source = read_source(path)
    write_atomic(path, source.text.replace("from", "FROM"), source)
    assert path.read_bytes() == b"FROM alpine\nLABEL x=\xe9\n"


@given(no_nul_bytes)
def test_any_bytes_without_nul_roundtrip_from_stdin(data: bytes) -> None:
    source = read_stdin_source(data)
    assert source.path == Path("-")
    assert source.mode is None
    assert encode_source(source.text, source.encoding) == data


@settings(max_examples=50)
@given(no_nul_bytes)
def test_any_bytes_without_nul_roundtrip_through_disk(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _roundtrip(Path(tmp), data)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "\n"),
        ("no newline", "\n"),
        ("a\r\nb\r\nc\n", "\r\n"),
        ("a\rb\rc\r\n", "\r"),
        ("a\nb\r\n", "\n"),
        ("a\r\nb\r", "\r\n"),
    ],
)
def test_dominant_newline(text: str, expected: str) -> None:
    assert dominant_newline(text) == expected


@pytest.mark.parametrize("mode", [0o640, 0o755, 0o600, 0o4755])
def test_write_keeps_mode(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM alpine\n")
    path.chmod(mode)
    source = read_source(path)
    assert source.mode == mode
    write_atomic(path, "FROM alpine:3\n", source)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert path.read_text() == "FROM alpine:3\n"


def test_write_without_known_mode_keeps_existing_mode(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM alpine\n")
    path.chmod(0o751)
    write_atomic(path, "FROM alpine:3\n", read_stdin_source(b"FROM alpine\n"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o751


def test_write_new_file_without_known_mode_uses_default(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    write_atomic(path, "FROM alpine\n", read_stdin_source(b""))
    assert stat.S_IMODE(path.stat().st_mode) == files.DEFAULT_MODE
    assert path.read_text() == "FROM alpine\n"


def test_write_through_symlink_keeps_link(tmp_path: Path) -> None:
    target = tmp_path / "real" / "Dockerfile"
    target.parent.mkdir()
    target.write_text("FROM alpine\n")
    target.chmod(0o640)
    link = tmp_path / "Dockerfile"
    link.symlink_to(Path("real") / "Dockerfile")
    source = read_source(link)
    assert source.mode == 0o640
    write_atomic(link, "FROM alpine:3\n", source)
    assert link.is_symlink()
    assert os.readlink(link) == str(Path("real") / "Dockerfile")
    assert target.read_text() == "FROM alpine:3\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile", "real"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["Dockerfile"]


def test_write_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM alpine\n")
    write_atomic(path, "FROM alpine:3\n", read_source(path))
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]


def test_failed_replace_leaves_original_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM alpine\n")
    source = read_source(path)
    seen: list[str] = []

    def failing_replace(src: str, dst: object) -> None:
        seen.append(os.path.basename(src))
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.os, "replace", failing_replace)
    with pytest.raises(FileProblem) as info:
        write_atomic(path, "FROM alpine:3\n", source)
    assert info.value.message == "cannot write: Permission denied"
    assert str(info.value) == f"{path}: cannot write: Permission denied"
    assert seen and seen[0].startswith(".Dockerfile.dockfix-")
    assert path.read_bytes() == b"FROM alpine\n"
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]


def test_failed_write_leaves_original_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM alpine\n")
    source = read_source(path)

    def failing_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", failing_fsync)
    with pytest.raises(FileProblem, match="No space left on device"):
        write_atomic(path, "FROM alpine:3\n", source)
    assert path.read_bytes() == b"FROM alpine\n"
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]


def test_interrupted_write_cleans_up_and_propagates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM alpine\n")
    source = read_source(path)

    def interrupted(src: str, dst: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, "FROM alpine:3\n", source)
    assert path.read_bytes() == b"FROM alpine\n"
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]


def test_write_into_missing_directory(tmp_path: Path) -> None:
    path = tmp_path / "gone" / "Dockerfile"
    with pytest.raises(FileProblem, match="cannot write: No such file or directory"):
        write_atomic(path, "FROM alpine\n", read_stdin_source(b""))


def test_unencodable_text_is_a_problem_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM alpine\n")
    with pytest.raises(FileProblem, match="cannot encode as utf-8"):
        write_atomic(path, "FROM \ud800\n", read_source(path))
    assert path.read_bytes() == b"FROM alpine\n"
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope"
    with pytest.raises(FileProblem) as info:
        read_source(path)
    assert info.value.path == path
    assert info.value.message == "No such file or directory"


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(FileProblem) as info:
        read_source(tmp_path)
    assert info.value.message == "Is a directory"


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM alpine\n")

    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    # Tests run as root, which ignores file modes, so simulate the failing read.
    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(FileProblem) as info:
        read_source(path)
    assert info.value.message == "Permission denied"
    assert str(info.value) == f"{path}: Permission denied"


@pytest.mark.parametrize(
    ("data", "offset"),
    [(b"\x00", 0), (b"FROM alpine\n\x00\x01", 12), (b"\x7fELF\x02\x01\x01\x00", 7)],
)
def test_binary_file(tmp_path: Path, data: bytes, offset: int) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(data)
    with pytest.raises(FileProblem) as info:
        read_source(path)
    assert info.value.message == f"binary file (NUL byte at offset {offset}), not a Dockerfile"


def test_binary_stdin() -> None:
    with pytest.raises(FileProblem, match="binary file") as info:
        read_stdin_source(b"abc\x00")
    assert info.value.path == Path("-")


def test_nul_after_sniff_window_is_kept(tmp_path: Path) -> None:
    data = b"#" * files.BINARY_SNIFF_BYTES + b"\x00\n"
    assert _roundtrip(tmp_path, data).text.endswith("\x00\n")


def test_utf16_with_nul_character_is_binary() -> None:
    with pytest.raises(FileProblem, match="NUL byte at offset 4"):
        read_stdin_source("\ufeffA\x00B".encode("utf-16-le"))


def test_problem_message_is_one_line_and_picklable() -> None:
    problem = FileProblem(Path("x"), "first\nsecond")
    assert problem.message == "first second"
    copy = pickle.loads(pickle.dumps(problem))
    assert (copy.path, copy.message, str(copy)) == (Path("x"), "first second", "x: first second")


def test_source_file_is_frozen() -> None:
    source = read_stdin_source(b"FROM alpine\n")
    with pytest.raises(AttributeError):
        source.text = "x"  # type: ignore[misc]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_write_keeps_owner_when_root(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM alpine\n")
    os.chown(path, 4321, 4322)
    path.chmod(0o2750)
    write_atomic(path, "FROM alpine:3\n", read_source(path))
    info = path.stat()
    assert (info.st_uid, info.st_gid) == (4321, 4322)
    assert stat.S_IMODE(info.st_mode) == 0o2750


def test_a_read_only_file_is_not_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Renaming over it would work (the folder is writable); the file's mode says no.  Root
    # may write anything, so the check the user would meet is simulated.
    target = tmp_path / "Dockerfile"
    target.write_text("FROM a\n")
    like = files.read_source(target)
    monkeypatch.setattr(files.os, "access", lambda path, mode: False)
    with pytest.raises(files.FileProblem, match="read-only"):
        files.write_atomic(target, "FROM b\n", like)
    assert target.read_text() == "FROM a\n"
    assert [path.name for path in tmp_path.iterdir()] == ["Dockerfile"]
