"""Loading the corpus: the real file, and every malformed-file error naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml.data import Corpus, load_corpus, parse_corpus
from ml.errors import DatasetError


def test_loads_the_uci_corpus(corpus: Corpus) -> None:
    fp = corpus.fingerprint()
    assert (fp.rows, fp.spam, fp.ham) == (5574, 747, 4827)
    assert fp.sha256 == "7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d"
    assert corpus.texts[0].startswith("Go until jurong point")
    assert corpus.y.sum() == 747


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "SMSSpamCollection"
    path.write_bytes(data)
    return path


def test_missing_file_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"no such file; run `spamops data fetch`"):
        load_corpus(tmp_path / "nope")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="is a directory"):
        load_corpus(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    path = _write(tmp_path, b"")
    with pytest.raises(DatasetError, match=rf"{path}: the file is empty"):
        load_corpus(path)


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        (b"ham\thello\nspam no tab here\n", 2, "expected 2 tab-separated columns"),
        (b"ham\thello\nham\tone\ttwo\n", 2, "found 3"),
        (b"ham\thello\nham\tok\nspm\tbad label\n", 3, "unknown label 'spm'"),
        (b"ham\t   \n", 1, "empty message text"),
        (b"ham\thello\n\nham\tafter a blank line\n", 2, "found 1"),
    ],
)
def test_malformed_lines_name_file_and_line(
    tmp_path: Path, data: bytes, line: int, message: str
) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(DatasetError, match=rf"^{path}:{line}: .*{message}"):
        load_corpus(path)


def test_not_utf8_names_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, b"ham\tfine\nspam\tcaf\xe9 latin-1\n")
    with pytest.raises(
        DatasetError, match=rf"^{path}:2: not valid UTF-8 \(byte 0xe9 at column 9\)"
    ):
        load_corpus(path)


def test_crlf_and_missing_final_newline_are_fine() -> None:
    corpus = parse_corpus(b"ham\thello\r\nspam\tWIN now", "mem")
    assert corpus.texts == ("hello", "WIN now")
    assert corpus.labels == ("ham", "spam")


def test_a_csv_file_gets_a_line_error(tmp_path: Path) -> None:
    path = _write(tmp_path, b"label,text\nham,hello\n")
    with pytest.raises(DatasetError) as info:
        load_corpus(path)
    assert str(info.value) == (
        f"{path}:1: expected 2 tab-separated columns (label, text), found 1: 'label,text'"
    )
