"""A saver-level `namespace` keeps two savers' threads apart in one file."""

from __future__ import annotations

from typing import Any

from tests.savers._async.spec_helpers import (
    TABLES,
    build_graph_with_subgraph,
    checkpoint_id,
    config,
    count_rows,
    ids,
    put_counter_chain,
    put_step,
    thread_rows,
)

USER, ADMIN = "user_graph", "admin_graph"


async def put_both(user: Any, admin: Any, thread_id: str = "shared") -> None:
    """Same thread id, different history: 3 steps in user_graph, 2 in admin_graph."""
    await put_counter_chain(user, thread_id, 3, with_writes=True, metadata={"run_id": "run-1"})
    await put_counter_chain(
        admin, thread_id, 2, with_writes=True, first=11, metadata={"run_id": "run-1"}
    )


async def test_same_thread_id_in_two_namespaces_gets_its_own_latest_checkpoint(
    open_saver: Any,
) -> None:
    async with open_saver(namespace=USER) as user, open_saver(namespace=ADMIN) as admin:
        await put_both(user, admin)
        mine = await user.aget_tuple(config("shared"))
        theirs = await admin.aget_tuple(config("shared"))
    assert mine is not None and theirs is not None
    assert mine.checkpoint["channel_values"]["count"] == 3
    assert theirs.checkpoint["channel_values"]["count"] == 12
    assert mine.pending_writes == [("task-3", "count", 4)]
    assert theirs.pending_writes == [("task-12", "count", 13)]


async def test_a_checkpoint_id_from_another_namespace_is_not_found(open_saver: Any) -> None:
    async with open_saver(namespace=USER) as user, open_saver(namespace=ADMIN) as admin:
        await put_both(user, admin)
        assert await user.aget_tuple(config("shared", cid=checkpoint_id(11))) is None
        assert await admin.aget_tuple(config("shared", cid=checkpoint_id(1))) is None


async def test_list_of_a_thread_sees_only_its_own_namespace(open_saver: Any) -> None:
    async with open_saver(namespace=USER) as user, open_saver(namespace=ADMIN) as admin:
        await put_both(user, admin)
        mine = [t async for t in user.alist(config("shared"))]
        theirs = [t async for t in admin.alist(config("shared"))]
    assert ids(mine) == [checkpoint_id(n) for n in (3, 2, 1)]
    assert ids(theirs) == [checkpoint_id(n) for n in (12, 11)]


async def test_list_without_config_sees_only_its_own_namespace(open_saver: Any) -> None:
    async with open_saver(namespace=USER) as user, open_saver(namespace=ADMIN) as admin:
        await put_both(user, admin)
        await put_counter_chain(user, "only-user", 1, first=21)
        mine = [t async for t in user.alist(None)]
        theirs = [t async for t in admin.alist(None)]
    assert ids(mine) == [checkpoint_id(n) for n in (21, 3, 2, 1)]
    assert ids(theirs) == [checkpoint_id(n) for n in (12, 11)]


async def test_list_with_a_filter_sees_only_its_own_namespace(open_saver: Any) -> None:
    async with open_saver(namespace=USER) as user, open_saver(namespace=ADMIN) as admin:
        await put_both(user, admin)
        mine = [t async for t in user.alist(None, filter={"run_id": "run-1"})]
        theirs = [t async for t in admin.alist(None, filter={"run_id": "run-1"})]
    assert ids(mine) == [checkpoint_id(n) for n in (3, 2, 1)]
    assert ids(theirs) == [checkpoint_id(n) for n in (12, 11)]


async def test_the_default_namespace_is_separate_from_named_ones(open_saver: Any) -> None:
    async with open_saver(namespace=USER) as user, open_saver() as default:
        await put_counter_chain(user, "shared", 3)
        assert await default.aget_tuple(config("shared")) is None
        assert [t async for t in default.alist(None)] == []


async def test_delete_thread_removes_only_its_own_namespace(open_saver: Any) -> None:
    async with open_saver(namespace=USER) as user, open_saver(namespace=ADMIN) as admin:
        await put_both(user, admin)
        await user.adelete_thread("shared")
        assert await user.aget_tuple(config("shared")) is None
        theirs = [t async for t in admin.alist(config("shared"))]
    assert ids(theirs) == [checkpoint_id(n) for n in (12, 11)]
    assert thread_rows(open_saver, "shared", USER) == dict.fromkeys(TABLES, 0)
    assert thread_rows(open_saver, "shared", ADMIN) == {
        "history_checkpoints": 2,
        "history_blobs": 3,
        "history_writes": 2,
        "history_threads": 1,
    }


async def test_copy_thread_copies_only_its_own_namespace(open_saver: Any) -> None:
    async with open_saver(namespace=USER) as user, open_saver(namespace=ADMIN) as admin:
        await put_both(user, admin)
        await user.acopy_thread("shared", "copy")
        mine = [t async for t in user.alist(config("copy"))]
        assert await admin.aget_tuple(config("copy")) is None
    assert ids(mine) == [checkpoint_id(n) for n in (3, 2, 1)]
    assert thread_rows(open_saver, "copy", ADMIN) == dict.fromkeys(TABLES, 0)


async def test_copy_thread_target_is_only_checked_for_emptiness_in_its_own_namespace(
    open_saver: Any,
) -> None:
    async with open_saver(namespace=USER) as user, open_saver(namespace=ADMIN) as admin:
        await put_both(user, admin)
        await put_counter_chain(admin, "copy", 1, first=31)
        await user.acopy_thread("shared", "copy")
        mine = [t async for t in user.alist(config("copy"))]
        theirs = [t async for t in admin.alist(config("copy"))]
    assert ids(mine) == [checkpoint_id(n) for n in (3, 2, 1)]
    assert ids(theirs) == [checkpoint_id(31)]


async def test_prune_keep_latest_prunes_only_its_own_namespace(open_saver: Any) -> None:
    async with open_saver(namespace=USER) as user, open_saver(namespace=ADMIN) as admin:
        await put_both(user, admin)
        await user.aprune(["shared"])
        mine = [t async for t in user.alist(config("shared"))]
        theirs = [t async for t in admin.alist(config("shared"))]
    assert ids(mine) == [checkpoint_id(3)]
    assert ids(theirs) == [checkpoint_id(n) for n in (12, 11)]


async def test_prune_delete_deletes_only_its_own_namespace(open_saver: Any) -> None:
    async with open_saver(namespace=USER) as user, open_saver(namespace=ADMIN) as admin:
        await put_both(user, admin)
        await admin.aprune(["shared"], strategy="delete")
        mine = [t async for t in user.alist(config("shared"))]
        theirs = [t async for t in admin.alist(config("shared"))]
    assert ids(mine) == [checkpoint_id(n) for n in (3, 2, 1)]
    assert theirs == []


async def test_delete_for_runs_deletes_only_its_own_namespace(open_saver: Any) -> None:
    async with open_saver(namespace=USER) as user, open_saver(namespace=ADMIN) as admin:
        await put_both(user, admin)
        await user.adelete_for_runs(["run-1"])
        mine = [t async for t in user.alist(config("shared"))]
        theirs = [t async for t in admin.alist(config("shared"))]
    assert mine == []
    assert ids(theirs) == [checkpoint_id(n) for n in (12, 11)]
    assert count_rows(open_saver, "history_writes", "namespace = ?", (ADMIN,)) == 2


async def test_hand_built_checkpoint_ns_is_kept_apart_within_each_namespace(
    open_saver: Any,
) -> None:
    async with open_saver(namespace=USER) as user, open_saver(namespace=ADMIN) as admin:
        for cp, tag in ((user, "u"), (admin, "a")):
            await put_step(cp, "shared", 1, {"who": f"{tag}-root"}, {"who": 1})
            await put_step(
                cp, "shared", 2, {"who": f"{tag}-child"}, {"who": 1}, checkpoint_ns="child:1"
            )
        for cp, tag in ((user, "u"), (admin, "a")):
            root = await cp.aget_tuple(config("shared"))
            child = await cp.aget_tuple(config("shared", "child:1"))
            assert root is not None and child is not None
            assert root.checkpoint["channel_values"] == {"who": f"{tag}-root"}
            assert child.checkpoint["channel_values"] == {"who": f"{tag}-child"}
            listed = [t async for t in cp.alist(config("shared", "child:1"))]
            assert ids(listed) == [checkpoint_id(2)]


async def test_subgraph_checkpoints_of_a_real_graph_stay_in_their_namespace(
    open_saver: Any,
) -> None:
    async with open_saver(namespace=USER) as user, open_saver(namespace=ADMIN) as admin:
        cfg = {"configurable": {"thread_id": "shared"}}
        assert await build_graph_with_subgraph(user, suffix="-inner").ainvoke(
            {"x": "user"}, cfg
        ) == {"x": "user-inner"}
        assert await build_graph_with_subgraph(admin, suffix="-inner").ainvoke(
            {"x": "admin"}, cfg
        ) == {"x": "admin-inner"}
        for cp, who in ((user, "user"), (admin, "admin")):
            listed = [t async for t in cp.alist(cfg)]
            child_ns = {
                t.config["configurable"]["checkpoint_ns"]
                for t in listed
                if t.config["configurable"]["checkpoint_ns"]
            }
            assert len(child_ns) == 1
            (ns,) = child_ns
            assert ns.startswith("child:")
            child = await cp.aget_tuple(config("shared", ns))
            assert child is not None
            assert child.checkpoint["channel_values"]["x"] == f"{who}-inner"
            root = await cp.aget_tuple(config("shared"))
            assert root is not None
            assert root.checkpoint["channel_values"]["x"] == f"{who}-inner"
            assert all(who in str(t.checkpoint["channel_values"]) for t in listed)
