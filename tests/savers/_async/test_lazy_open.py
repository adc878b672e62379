"""A saver from from_conn_string opens on first use: copies share what it opens."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from saver import SaverClosedError
from tests.savers._async.spec_helpers import put_step


async def test_a_copy_made_before_first_use_writes_through_the_same_connection(
    open_lazy: Any,
) -> None:
    original = open_lazy()
    clone = copy.copy(original)  # what LangGraph's with_allowlist does in compile()
    await put_step(clone, "t", 1, {"count": 1}, {"count": 1})
    found = await original.aget_tuple({"configurable": {"thread_id": "t"}})
    assert found is not None and found.checkpoint["channel_values"]["count"] == 1
    await original.aclose()
    with pytest.raises(SaverClosedError):
        await clone.aget_tuple({"configurable": {"thread_id": "t"}})


async def test_closing_a_copy_leaves_the_original_open(open_lazy: Any) -> None:
    original = open_lazy()
    await original.setup()
    clone = copy.copy(original)
    await clone.aclose()  # a copy owns no connection
    await put_step(original, "t", 1, {"count": 1}, {"count": 1})
    await original.aclose()
