"""app.run_timing: OPTVIZ_TIMING=1 logs a script run's phases; off, it logs nothing."""

import time

from app import run_timing


def test_a_run_logs_each_phase_with_wall_and_cpu_times(monkeypatch, capsys):
    monkeypatch.setattr(run_timing, "ENABLED", True)
    with run_timing.run():
        with run_timing.phase("sleeping"):
            time.sleep(0.05)  # waits: wall time, almost no CPU time
        with run_timing.phase("working"):
            sum(i * i for i in range(200_000))
    line = capsys.readouterr().err.strip()
    assert line.startswith("optviz-run at ")
    fields = dict(part.rsplit(" ", 1) for part in line.split(" · ")[1:])
    wall, cpu = map(float, fields["sleeping"].split("/"))
    assert wall >= 45 and cpu < wall / 2
    wall, cpu = map(float, fields["working"].split("/"))
    assert cpu > 0 and wall > 0
    assert run_timing.phase("after") is not None  # outside a run: a no-op context
    with run_timing.phase("after"):
        pass
    assert capsys.readouterr().err == ""


def test_off_it_logs_nothing(monkeypatch, capsys):
    monkeypatch.setattr(run_timing, "ENABLED", False)
    with run_timing.run(), run_timing.phase("anything"):
        pass
    assert capsys.readouterr().err == ""


def test_the_document_sent_is_logged_once_and_read_back_per_session(monkeypatch, capsys):
    from benchmarks.load import script_runs, to_document

    monkeypatch.setattr(run_timing, "ENABLED", True)
    with run_timing.run():
        time.sleep(0.03)
        run_timing.sent()  # the first document: 30 ms or more after the start
        time.sleep(0.03)
        run_timing.sent()  # a second one in the same run is not the session's first
    with run_timing.run():  # a run that sends nothing
        pass
    log = "streamlit's own output\n" + capsys.readouterr().err
    first, second = script_runs(log)
    assert first["session"] == second["session"] == "-"  # outside Streamlit
    assert 30 <= first["sent"] < 60 and second["sent"] is None
    assert first["at"] <= second["at"]
    (seconds,) = to_document([first, second], first["at"] - 1, first["at"] + 1)
    assert 0.03 <= seconds < 0.06
    # a session's document sent by a later run counts from its first run's start
    later = {"at": first["at"] + 2.0, "session": "b", "sent": 500.0}
    runs = [{"at": first["at"] + 1.0, "session": "b", "sent": None}, later]
    assert to_document(runs, first["at"], first["at"] + 1.5) == [1.5]
    assert to_document(runs, first["at"] + 1.5, first["at"] + 3) == []  # began before
