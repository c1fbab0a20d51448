"""The stream ledger: the one rule for when a lazy stream counts as finished, and its seconds."""

from __future__ import annotations

import threading

from nodegraph.streams import StreamLedger


def ledger(links: list[tuple[str, str]], order: list[str]) -> StreamLedger:
    sources: dict[str, set[str]] = {n: set() for n in order}
    for src, dst in links:
        sources[dst].add(src)
    return StreamLedger(sources, order)


def ids(ends) -> list[str]:
    return [e.node_id for e in ends]


def test_a_stream_that_feeds_nothing_ends_when_it_is_returned():
    book = ledger([], ["src"])
    (end,) = book.opened("src", "video: clip", 0.5)
    assert (end.node_id, end.summary, end.seconds, end.finished) == ("src", "video: clip", 0.5, True)
    assert not book.is_open("src")


def test_a_chain_of_streams_ends_upstream_first_when_the_node_pulling_it_finishes():
    book = ledger([("src", "mid"), ("mid", "save")], ["src", "mid", "save"])
    assert book.opened("src", "", 0.0) == []
    assert book.opened("mid", "", 0.0) == []  # mid is a stream too: it keeps src open until it ends
    assert ids(book.finished("save")) == ["src", "mid"]


def test_a_stream_feeding_two_nodes_ends_after_both():
    book = ledger([("src", "a"), ("src", "b")], ["src", "a", "b"])
    book.opened("src", "", 0.0)
    assert book.finished("a") == []
    assert ids(book.finished("b")) == ["src"]


def test_a_stream_fed_by_a_value_node_ends_on_its_own_consumers_only():
    book = ledger([("load", "camera"), ("camera", "save")], ["load", "camera", "save"])
    assert book.finished("load") == []  # load returned a picture: nothing of it is a stream
    book.opened("camera", "", 0.0)
    assert ids(book.finished("save")) == ["camera"]


def test_seconds_from_any_thread_count_until_the_stream_ends():
    book = ledger([("src", "save")], ["src", "save"])
    book.opened("src", "", 0.25)
    workers = [threading.Thread(target=lambda: [book.add_seconds("src", 0.001) for _ in range(500)])
               for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    (end,) = book.finished("save")
    assert abs(end.seconds - 2.25) < 1e-9
    book.add_seconds("src", 5.0)  # a pull after the end (a preview's) is nobody's run time
    assert not book.is_open("src")


def test_what_is_open_when_the_run_ends_ends_with_it():
    order = ["a", "b", "c", "d"]
    links = [("a", "b"), ("b", "d"), ("c", "d")]
    failed = ledger(links, order)
    for node_id in ("a", "b"):
        failed.opened(node_id, "", 0.0)
    # b's own code failed while d pulled it: a did its part, b did not finish
    assert [(e.node_id, e.finished) for e in failed.close(cancelled=False, failed="b")] == [("a", True),
                                                                                            ("b", False)]
    cancelled = ledger(links, order)
    cancelled.opened("a", "", 0.0)
    assert [(e.node_id, e.finished) for e in cancelled.close(cancelled=True, failed=None)] == [("a", False)]
    assert cancelled.close(cancelled=True, failed=None) == []
