"""Streaming reducers: any chunking and any merge order give what one pass over every lane gives."""

from __future__ import annotations

import copy
import pickle
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verify.distributed import Collect, Count, Fields, Filter, Histogram, Smallest, Sum, fold_lanes, merge_all
from verify.errors import InvalidArgument


# Module-level key functions: folds travel to worker processes, so what they hold must pickle.
def first(index, item):
    return item[0]


def second(index, item):
    return item[1]


def flag(index, item):
    return item[2]


def maybe_second(index, item):
    return None if item[0] % 5 == 0 else item[1]


def odd_index(index, item):
    return index % 2 == 1


EDGES = (Fraction(-1, 2), 0, Fraction(1, 3), 1, 2.5)
FOLDS = {
    "count": Count(key=flag),
    "count-items": Count(key=first),
    "sum": Sum(value=second),
    "histogram": Histogram(EDGES, value=maybe_second),
    "smallest": Smallest(3, key=second),
    "smallest-1": Smallest(1, key=first, keep=second),
    "collect": Collect(),
    "filter": Filter(odd_index, Count(key=first)),
    "fields": Fields(n=Count(key=flag), low=Smallest(2, key=first), total=Sum(value=second)),
}

items = st.tuples(st.integers(-3, 12), st.fractions(min_value=-3, max_value=3, max_denominator=7), st.booleans())


@st.composite
def chunked_lanes(draw):
    """Lanes 0..n-1 with values, cut into at least two chunks at random places, merged in a random order."""
    values = draw(st.lists(items, min_size=2, max_size=40))
    n = len(values)
    cuts = sorted(set(draw(st.lists(st.integers(0, n), max_size=8))) | {0, draw(st.integers(1, n - 1)), n})
    chunks = [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]
    order = draw(st.permutations(range(len(chunks))))
    return values, [chunks[k] for k in order]


@pytest.mark.parametrize("name", sorted(FOLDS))
@given(case=chunked_lanes())
def test_any_chunking_and_merge_order_gives_the_one_pass_value(name, case):
    fold = FOLDS[name]
    values, chunks = case
    one_pass = fold.finish(fold_lanes(fold, enumerate(values)))
    summaries = [fold_lanes(fold, ((i, values[i]) for i in range(a, b))) for a, b in chunks]
    frozen = copy.deepcopy(summaries)
    merged = fold.finish(merge_all(fold, summaries))
    assert merged == one_pass and repr(merged) == repr(one_pass)
    assert repr(summaries[1:]) == repr(frozen[1:])  # merge changed only the accumulator it was given
    # summaries and folds survive the trip to and from a worker
    again = pickle.loads(pickle.dumps(fold))
    assert repr(again.finish(merge_all(again, pickle.loads(pickle.dumps(frozen))))) == repr(one_pass)


@given(values=st.lists(items, max_size=40))
def test_each_fold_computes_what_it_says(values):
    lanes = list(enumerate(values))

    def run(fold):
        return fold.finish(fold_lanes(fold, lanes))

    assert run(Count(key=flag)) == dict(sorted(Counter(v[2] for v in values).items()))
    assert run(Sum(value=second)) == sum((v[1] for v in values), Fraction(0))
    hist = run(Histogram(EDGES, value=maybe_second))
    present = [v[1] for v in values if v[0] % 5 != 0]
    assert hist["missing"] == len(values) - len(present)
    assert hist["below"] == sum(x < EDGES[0] for x in present) and hist["above"] == sum(x >= EDGES[-1] for x in present)
    assert hist["counts"] == [sum(lo <= x < hi for x in present) for lo, hi in zip(EDGES, EDGES[1:], strict=False)]
    best = sorted((v[1], i) for i, v in lanes)[:3]
    assert [(key, i) for key, i, _ in run(Smallest(3, key=second))] == best
    assert [kept for _, _, kept in run(Smallest(1, key=first, keep=second))] == \
        [values[i][1] for _, i in sorted((v[0], i) for i, v in lanes)[:1]]
    assert run(Collect()) == values
    assert run(Filter(odd_index, Collect())) == values[1::2]


def test_smallest_keeps_at_most_k_whatever_the_number_of_lanes():
    fold = Smallest(4, key=first)
    acc = fold.empty()
    for chunk in range(50):
        lanes = ((i, (-(i % 97), 0, False)) for i in range(chunk * 100, chunk * 100 + 100))
        acc = fold.merge(acc, fold_lanes(fold, lanes))
        assert len(acc) <= 4
    assert [(k, i) for k, i, _ in fold.finish(acc)] == [(-96, 96), (-96, 193), (-96, 290), (-96, 387)]


def test_bad_fold_parameters_name_their_field():
    with pytest.raises(InvalidArgument, match="^k=0 "):
        Smallest(0, key=first)
    with pytest.raises(InvalidArgument, match="^edges="):
        Histogram([1, 1])
    with pytest.raises(InvalidArgument, match="^edges="):
        Histogram([])
    with pytest.raises(InvalidArgument, match="^value=0.5 must be an int or a Fraction"):
        fold_lanes(Sum(), [(0, 0.5)])
    with pytest.raises(InvalidArgument, match="^folds="):
        Fields()
