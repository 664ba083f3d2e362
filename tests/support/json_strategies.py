"""Hypothesis strategies for JSON as lvyue.common.webhooks.decode_json lets it through: any
shape and type, within the decoder's limits (20-digit integers, finite floats, storable text)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

_TEXT = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    max_size=40,
)
# Values that broke adapters before, or sit on a limit: blanks, signs, huge digit strings.
EDGES: st.SearchStrategy[Any] = st.sampled_from(
    [None, True, 0, -1, 10**20 - 1, -(10**20) + 1, 1e308, -1e-308, "", " ", "0", "-1", "1.5",
     "1e30", "9" * 30, "-" + "9" * 30, "2026-12-01 10:00:00", "2026-13-45 99:99:99", [], {}]
)  # fmt: skip
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20) + 1, max_value=10**20 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT
    | EDGES
)
JSON: st.SearchStrategy[Any] = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=20,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, sample: bytes) -> Any:
    """The sample with one to four of its values (anywhere, the root included) replaced by
    arbitrary JSON: the adapter then gets past its first checks into the mapping."""
    data: Any = json.loads(sample)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        path = draw(st.sampled_from(_paths(data)))
        value = draw(EDGES | JSON)
        if not path:
            return value
        node = data
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value
    return data
