"""The benchmark's batching of hadolint's files: a fair split is part of a fair ratio."""

from __future__ import annotations

from pathlib import Path

from benchmark_scripts import load
from hypothesis import given
from hypothesis import strategies as st

fix = load("fix")


@given(
    count=st.integers(min_value=0, max_value=3000),
    size=st.integers(min_value=1, max_value=200),
    workers=st.integers(min_value=1, max_value=4),
)
def test_batches_split_evenly_in_order(count: int, size: int, workers: int) -> None:
    files = [Path(f"f{number}") for number in range(count)]
    groups = fix.batches(files, size, workers)
    assert [path for group in groups for path in group] == files
    assert all(0 < len(group) <= size for group in groups)
    if groups:
        assert max(map(len, groups)) - min(map(len, groups)) <= 1
        assert len(groups) % workers == 0 or len(groups) == count


def test_the_corpus_split_leaves_no_batch_alone() -> None:
    # 2,093 files in batches of 100 were 21 batches: the last ran alone in a 2-way pass.
    groups = fix.batches([Path(f"f{number}") for number in range(2093)], 100, 2)
    assert len(groups) == 22
    assert {len(group) for group in groups} == {95, 96}


@given(
    count=st.integers(min_value=0, max_value=400),
    total=st.integers(min_value=1, max_value=3000),
)
def test_sample_is_spread_over_the_corpus(count: int, total: int) -> None:
    files = [Path(f"f{number:05}") for number in range(total)]
    chosen = fix.sample_of(files, count)
    assert chosen == sorted(set(chosen))
    assert len(chosen) == (total if count == 0 or count >= total else count)
    assert chosen[0] == files[0]
