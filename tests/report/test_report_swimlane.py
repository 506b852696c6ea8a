"""Swimlanes: one column per thread, the finding's object highlighted."""

from rcu_harness.report.model import FindingView, load_run
from rcu_harness.report.swimlane import Row, build, focus, swimlane_html
from rcu_harness.trace.tracefile import TraceEvent, TraceMark

NODE = 0xFFFF888000000100


def _e(step, thread, kind, addr=NODE, word=None, index=-1, value="", fn=""):
    return TraceEvent(step, thread, kind, hex(addr), word, index, value, fn)


def _finding(events):
    return FindingView("sig", "use-after-free", "KASAN: ... by reader/2", 1, 0,
                       "replay", "findings/sig.json", thread="reader/2", step=99,
                       addr=hex(NODE), lifecycle=(TraceMark("alloc", "writer/1", 1),
                                                  TraceMark("free", "rcu_gp/0", 9)),
                       events=tuple(events))


def test_lanes_follow_thread_ids_and_the_object_is_highlighted():
    events = [
        _e(1, "writer/1", "alloc", value="maple_node"),
        _e(2, "reader/2", "load", word="slot", index=0, value="0x1", fn="mas_walk"),
        _e(3, "writer/1", "store", word="parent", value=hex(NODE | 0)),  # dead
        _e(4, "writer/1", "store", word="parent", value=hex(0xFFFF888000000206)),
        _e(5, "writer/1", "call_rcu", word="mt_free_rcu", index=1),
        _e(6, "rcu_gp/0", "gp_end", addr=1),
        _e(7, "rcu_gp/0", "rcu_callback", word="mt_free_rcu", index=1),
        _e(8, "rcu_gp/0", "free", value="maple_node"),
        _e(9, "reader/2", "load", addr=0x1234, word="pivot", index=1, value="0x5"),
    ]
    lane = build(_finding(events))
    assert lane.lanes == ("rcu_gp/0", "writer/1", "reader/2")
    assert [r.cls for r in lane.rows] == ["alloc", "access", "retire", "access",
                                          "retire", "", "free", "free", "", "fault"]
    assert [r.lane for r in lane.rows] == [1, 2, 1, 1, 1, 0, 0, 0, 2, 2]
    assert lane.rows[-1] == Row(99, 2, "FAULT: KASAN: ... by reader/2", "fault")


def test_focus_keeps_the_life_cycle_rows_and_the_last_ones():
    def cls(i):
        return {2: "alloc", 50: "access", 60: "free"}.get(i, "")

    rows = tuple(Row(i, 0, f"e{i}", cls(i)) for i in range(100))
    shown = focus(rows, context=5)
    assert shown[:5] == [2, rows[2], 57, rows[60], 34]
    assert shown[5:] == list(rows[95:])


def test_a_finding_without_events_says_why():
    html = swimlane_html(FindingView("s", "k", "m", 1, 0, "r", "t",
                                     problem="trace format 1 has no events"))
    assert "No swimlane: trace format 1 has no events." in html


def test_a_stored_findings_swimlane_shows_its_life_and_fault(bug_run):
    (f,) = load_run(bug_run).findings
    lane = build(f)
    classes = {r.cls for r in lane.rows}
    assert {"fault", "free", "access"} <= classes
    assert lane.rows[-1].cls == "fault"
    assert lane.lanes[0] == "rcu_gp/0"
    html = swimlane_html(f)
    assert html.count("<table class='swimlane'>") == 2  # focused, then all
    assert "<details>" in html


def test_the_setup_lane_is_called_setup_even_in_older_traces():
    view = FindingView("sig", "use-after-free", "KASAN", 1, 0, "replay", "t.json",
                       events=(_e(0, "-1", "rcu_lock"), _e(1, "setup", "load"),
                               _e(2, "reader/2", "load")))
    lane = build(view)
    assert lane.lanes == ("setup", "reader/2")
    assert [r.lane for r in lane.rows] == [0, 0, 1]
