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
