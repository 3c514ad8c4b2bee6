"""The supervisor with tiny child processes (`python -c ...`): the combined log, restarts
with backoff, a clean stop, and no process left behind."""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from spamops.launcher.output import LogSink
from spamops.launcher.proctree import ProcessId, alive, descendants
from spamops.launcher.specs import Backoff, ProcessSpec
from spamops.launcher.supervisor import Supervisor

PY = sys.executable


def spec(name: str, code: str, **kwargs: object) -> ProcessSpec:
    return ProcessSpec(
        name=name,
        argv=(PY, "-c", textwrap.dedent(code)),
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
        **kwargs,  # type: ignore[arg-type]
    )


async def wait_for(predicate: object, timeout_s: float = 10.0) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def lines(out: io.StringIO, name: str) -> list[str]:
    """What process `name` wrote, in order (prefix: `HH:MM:SS name | `)."""
    rows = [line.split(" | ", 1) for line in out.getvalue().splitlines()]
    return [row[1] for row in rows if len(row) == 2 and row[0].split()[1:] == [name]]


async def test_every_line_of_every_child_is_prefixed_with_its_name(tmp_path: Path) -> None:
    out = io.StringIO()
    sink = LogSink(out, file=tmp_path / "up.log", colour=True)
    supervisor = Supervisor(sink)
    code = "import sys\nprint('one from {0}')\nprint('two from {0}', file=sys.stderr)"
    results = await asyncio.gather(
        supervisor.run_once(spec("alpha", code.format("alpha"))),
        supervisor.run_once(spec("beta-consumers", code.format("beta"))),
    )
    sink.close()
    assert list(results) == [0, 0]
    text = out.getvalue()
    assert "\x1b[" in text  # coloured prefixes on the "terminal"
    plain = (tmp_path / "up.log").read_text()
    assert "\x1b[" not in plain
    for line in ("alpha              | one from alpha", "beta-consumers     | two from beta"):
        assert line in plain
    assert all(len(row.split(" | ", 1)) == 2 for row in plain.splitlines())


def test_backoff_doubles_up_to_its_maximum() -> None:
    backoff = Backoff(initial_s=1.0, max_s=30.0)
    assert [backoff.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


async def test_a_crashing_child_is_restarted_with_growing_pauses() -> None:
    out = io.StringIO()
    supervisor = Supervisor(LogSink(out), Backoff(initial_s=0.2, max_s=0.8, stable_after_s=60))
    supervisor.start(
        spec("crashy", "import sys, time\nprint('started', time.monotonic())\nsys.exit(3)")
    )
    await wait_for(lambda: supervisor.starts("crashy") >= 4)
    await wait_for(lambda: len(lines(out, "crashy")) >= 4)
    await supervisor.stop()
    started = [float(line.split()[1]) for line in lines(out, "crashy")][:4]
    gaps = [b - a for a, b in itertools.pairwise(started)]
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4 and gaps[2] >= 0.8, gaps
    assert gaps[2] < 0.8 + 1.0  # capped at the maximum (plus a process start)
    assert supervisor.exit_codes("crashy")[:3] == [3, 3, 3]
    said = lines(out, "launcher")
    assert any("crashy exited with code 3; restarting in 0.2 s" in s for s in said)
    assert any("restarting in 0.8 s" in s for s in said)


async def test_a_child_that_exits_cleanly_is_not_restarted_on_failure_policy() -> None:
    out = io.StringIO()
    supervisor = Supervisor(LogSink(out), Backoff(initial_s=0.05))
    supervisor.start(spec("once", "print('done')", restart="on-failure"))
    await wait_for(lambda: supervisor.exit_codes("once") == [0])
    await asyncio.sleep(0.3)
    assert supervisor.starts("once") == 1
    await supervisor.stop()


async def test_stop_sends_sigterm_and_lets_children_drain() -> None:
    out = io.StringIO()
    supervisor = Supervisor(LogSink(out))
    code = """
        import signal, sys, time
        def drain(*_):
            print('draining', flush=True)
            sys.exit(0)
        signal.signal(signal.SIGTERM, drain)
        print('ready', flush=True)
        time.sleep(60)
    """
    supervisor.start(spec("consumer", code, tier=1))
    supervisor.start(spec("producer", code, tier=2))
    await wait_for(lambda: len(lines(out, "consumer")) == 1 and len(lines(out, "producer")) == 1)
    started = time.monotonic()
    await supervisor.stop()
    assert time.monotonic() - started < 5
    assert supervisor.exit_codes("consumer") == [0] and supervisor.exit_codes("producer") == [0]
    draining = [i for i, line in enumerate(out.getvalue().splitlines()) if "draining" in line]
    order = [out.getvalue().splitlines()[i].split()[1] for i in draining]
    assert order == ["producer", "consumer"]  # the higher tier stops first


async def test_a_child_that_ignores_sigterm_is_killed_after_the_timeout() -> None:
    out = io.StringIO()
    supervisor = Supervisor(LogSink(out), stop_timeout_s=0.5)
    code = """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print('stubborn', flush=True)
        time.sleep(60)
    """
    supervisor.start(spec("stubborn", code))
    await wait_for(lambda: lines(out, "stubborn") == ["stubborn"])
    await supervisor.stop()
    assert supervisor.exit_codes("stubborn") == [-signal.SIGKILL]
    assert any(
        "did not stop within 0 s: killed" in s or "killed" in s for s in lines(out, "launcher")
    )


GRANDCHILDREN = """
    import subprocess, sys, time
    stay = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])
    away = subprocess.Popen(
        [sys.executable, '-c', 'import time; time.sleep(120)'], start_new_session=True
    )
    print(stay.pid, away.pid, flush=True)
    time.sleep({sleep})
"""


async def test_stop_leaves_no_descendant_alive_even_one_that_left_the_group() -> None:
    out = io.StringIO()
    supervisor = Supervisor(LogSink(out), stop_timeout_s=2)
    supervisor.start(spec("parent", GRANDCHILDREN.format(sleep=120)))
    await wait_for(lambda: len(lines(out, "parent")) == 1)
    stay, away = (int(pid) for pid in lines(out, "parent")[0].split())
    seen: list[ProcessId] = descendants(supervisor.pids()["parent"])
    assert {stay, away} <= {pid for pid, _ in seen}
    await asyncio.sleep(1.5)  # the tracker has seen them
    await supervisor.stop()
    await wait_for(lambda: not any(alive(p) for p in seen), timeout_s=5)


async def test_what_a_crashed_child_left_behind_is_killed_before_the_restart() -> None:
    out = io.StringIO()
    supervisor = Supervisor(LogSink(out), Backoff(initial_s=5))
    supervisor.start(spec("leaky", GRANDCHILDREN.format(sleep=2.5) + "\n    sys.exit(1)"))
    await wait_for(lambda: len(lines(out, "leaky")) == 1)
    stay, away = (int(pid) for pid in lines(out, "leaky")[0].split())
    await wait_for(lambda: supervisor.exit_codes("leaky") == [1], timeout_s=10)
    await wait_for(lambda: not alive(stay) and not alive(away), timeout_s=5)
    await supervisor.stop()


LAUNCHER = """
import asyncio, os, signal, sys
from spamops.launcher.output import LogSink
from spamops.launcher.specs import ProcessSpec
from spamops.launcher.supervisor import Supervisor

CHILD = '''
import subprocess, sys, time
subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])
print('up', flush=True)
time.sleep(120)
'''

async def main() -> None:
    supervisor = Supervisor(LogSink(sys.stdout), stop_timeout_s=5)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    for name in ('one', 'two'):
        supervisor.start(ProcessSpec(name, (sys.executable, '-c', CHILD), dict(os.environ)))
    await stop.wait()
    await supervisor.stop()

asyncio.run(main())
"""


def _launch(tmp_path: Path) -> tuple[subprocess.Popen[bytes], list[ProcessId]]:
    log = tmp_path / "launcher.log"
    with log.open("wb") as out:
        launcher = subprocess.Popen(
            [PY, "-c", LAUNCHER], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 15
    while log.read_text().count("| up") < 2 or len(descendants(launcher.pid)) < 4:
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    return launcher, descendants(launcher.pid)


def test_sigterm_to_a_launcher_stops_every_process_it_started(tmp_path: Path) -> None:
    launcher, tree = _launch(tmp_path)
    assert len(tree) == 4  # two children, each with a child
    launcher.send_signal(signal.SIGTERM)
    assert launcher.wait(15) == 0
    survivors = [p for p in tree if alive(p)]
    assert survivors == []


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rfind(")") + 2 :].split()[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_children_get_sigterm_when_the_launcher_is_killed(tmp_path: Path) -> None:
    launcher, tree = _launch(tmp_path)
    children = [p for p in tree if _parent(p[0]) == launcher.pid]
    assert len(children) == 2
    launcher.kill()
    launcher.wait(5)
    deadline = time.monotonic() + 15  # the kernel signals at once; a loaded CI may lag
    while any(alive(p) for p in children):
        assert time.monotonic() < deadline, "a child outlived its SIGKILLed launcher"
        time.sleep(0.05)
    for p in tree:  # grandchildren outlive a SIGKILLed launcher: `spamops up` clears them
        if alive(p):
            os.kill(p[0], signal.SIGKILL)
