"""The ceiling ``benchmarks/fix.py`` prints: what dockfix could reach with free parsers.

The ceiling decides whether a native parser could meet the speed goal, so its split of
the CPU must see every parse (a parser imported under another name would be missed and
the ceiling come out too high) and leave dockfix as it found it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmark_scripts import load
from hypothesis import given
from hypothesis import strategies as st

import dockfix.engine
import dockfix.model.runs
import dockfix.runner
import dockfix.syntax
from dockfix.engine import fix_document, run_rules
from dockfix.shell.parse import parse_shell
from dockfix.syntax.document import parse

ceiling = load("_ceiling")
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "Dockerfile"


@given(
    peer=st.floats(min_value=0.1, max_value=1e4),
    rest=st.floats(min_value=0.01, max_value=1e4),
    workers=st.integers(min_value=1, max_value=64),
)
def test_more_workers_or_less_work_raise_the_ceiling(
    peer: float, rest: float, workers: int
) -> None:
    base = ceiling.ceiling_ratio(peer, rest, workers)
    assert base == pytest.approx(peer * workers / rest)
    assert ceiling.ceiling_ratio(peer, rest, workers + 1) > base
    assert ceiling.ceiling_ratio(peer, rest / 2, workers) == pytest.approx(2 * base)
    assert ceiling.ceiling_ratio(peer, rest, workers, startup=0.5) < base


def test_every_parse_is_timed_and_the_parsers_are_put_back(tmp_path: Path) -> None:
    second = tmp_path / "Dockerfile"
    second.write_text(
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n"
        'RUN echo a && \\\n    echo b\nCMD ["curl"]\n'
    )
    times = ceiling.measure_phases([EXAMPLE, second], EXAMPLE)
    assert times.files == 2
    assert set(times.calls) == {"Dockerfile parser", "shell parser"}
    # Each file is parsed once at least, and each of its RUNs' shells (the fragment
    # cache may answer some later parses without a call).
    assert times.calls["Dockerfile parser"] >= 2
    assert times.calls["shell parser"] >= 3
    assert 0 < sum(times.parsers.values()) < times.total
    assert times.rest == pytest.approx(times.total - sum(times.parsers.values()))
    # The second file needs a round after its first (its fixes are confirmed there).
    assert times.rounds >= 1
    assert 0 < times.later_rounds < times.rest
    assert dockfix.syntax.parse is parse
    assert dockfix.engine.parse is parse
    assert dockfix.model.runs.parse_shell is parse_shell
    assert dockfix.runner.fix_document is fix_document
    assert dockfix.engine.run_rules is run_rules


def test_a_parser_never_called_fails_the_measurement() -> None:
    with pytest.raises(RuntimeError, match="never called"):
        ceiling.measure_phases([], EXAMPLE)
