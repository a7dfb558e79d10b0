"""``georesil simulate``: JSON shapes, modes, bad input and a light --help."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import psutil
import pytest

from tests.unit._risk_build import mixed


def georesil(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "georesil", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def topo_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("risk") / "mixed.json"
    path.write_text(json.dumps(mixed().to_dict()))
    return str(path)


def test_snapshot_json_shape(topo_file: str) -> None:
    """simulate --json has the issue's stable keys per service and per importance row."""
    result = georesil("simulate", topo_file, "--trials", "70000", "--seed", "3", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["mode"], out["trials"], out["seed"]) == ("snapshot", 70000, 3)
    svc = out["services"]["db"]
    assert {"availability", "ci95", "p_down", "p_breach", "downtime_h_per_year"} <= set(svc)
    assert svc["ci95"][0] <= svc["availability"] <= svc["ci95"][1]
    row = out["importance"][0]
    assert set(row) >= {"element", "target", "birnbaum", "criticality", "raw", "rrw",
                        "fussell_vesely"}
    assert {r["target"] for r in out["importance"]} == {"db", "web", "batch", "tier-1"}


def test_exact_json(topo_file: str) -> None:
    """--exact reports mode 'exact' with zero-width intervals."""
    result = georesil("simulate", topo_file, "--exact", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    web = out["services"]["web"]
    assert out["mode"] == "exact" and web["ci95"] == [web["availability"]] * 2


def test_years_json(topo_file: str) -> None:
    """--years reports annual keys per service and a loss-exceedance list."""
    result = georesil("simulate", topo_file, "--years", "500", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["years"] == 500 and isinstance(out["loss_exceedance"], list)
    assert {"p_outage_per_year", "p_rpo_breach_per_year", "expected_downtime_h_per_year",
            "expected_data_loss_s_per_year"} <= set(out["services"]["db"])


def test_tables_and_warning(topo_file: str) -> None:
    """Without --json the command prints tables, and warns when trials are too few."""
    result = georesil("simulate", topo_file, "--trials", "1000")
    assert result.returncode == 0, result.stderr
    assert "Snapshot availability" in result.stdout and "Harden these first" in result.stdout
    assert "needs ≥" in result.stderr and "--exact" in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (("--engine", "spark"), "--engine: got 'spark'; allowed: local, dask"),
    (("--scheduler", "tcp://127.0.0.1:1"), "--scheduler needs --engine dask"),
    (("--exact", "--years", "10"), "--exact and --years exclude each other"),
    (("--trials", "0"), "--trials: got 0"),
])
def test_bad_options_exit_2(topo_file: str, args: tuple[str, ...], message: str) -> None:
    """Bad options exit 2 with a clear message and no traceback."""
    result = georesil("simulate", topo_file, *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_too_many_elements_for_exact_exit_2() -> None:
    """--exact on the reference topology (too many stochastic elements) exits 2, clearly."""
    result = georesil("simulate", "--exact")
    assert result.returncode == 2
    assert "exact enumeration handles at most 24" in result.stderr


def test_help_stays_light() -> None:
    """Importing the CLI for --help loads neither numba nor dask."""
    code = ("import sys; from georesil.cli.main import app; "
            "print(any(m.split('.')[0] in ('numba', 'dask', 'distributed') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_inject_quake_json(topo_file: str) -> None:
    """inject --quake adds the quake's failures and reports each element's shaking."""
    result = georesil("inject", topo_file, "--quake", "25.0,121.5,7.8,5", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert "site:n" in out["quake"]["failed"] and "site:n" in out["failed"]
    row = next(r for r in out["quake"]["elements"] if r["element"] == "site:n")
    assert row["fails"] and row["p_fail"] >= 0.5 and row["pga_g"] > 0.3


def test_inject_quake_bad_input_exit_2(topo_file: str) -> None:
    """A malformed --quake exits 2 naming the expected form."""
    result = georesil("inject", topo_file, "--quake", "25.0,121.5")
    assert result.returncode == 2
    assert "expected LAT,LON,MAG[,DEPTH_KM]" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_dask_engine_matches_local(topo_file: str) -> None:
    """--engine dask (a LocalCluster of 2 worker processes) prints exactly the local JSON."""
    args = ("simulate", topo_file, "--trials", "70000", "--seed", "4", "--json")
    local = georesil(*args)
    dask = georesil(*args, "--engine", "dask", "--workers", "2")
    assert dask.returncode == 0, dask.stderr
    assert json.loads(dask.stdout) == json.loads(local.stdout)


def _interrupt(*args: str) -> tuple[subprocess.CompletedProcess[str], list[psutil.Process]]:
    """Run georesil, wait for its first progress line, send SIGINT to it; its worker pids."""
    env = {**os.environ, "CI": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "georesil", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    first = proc.stderr.readline()
    assert first.startswith("simulating: "), first
    children = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), children


@pytest.mark.slow
@pytest.mark.parametrize("engine", [(), ("--workers", "2"), ("--engine", "dask", "--workers", "2")],
                         ids=["local", "local-2-workers", "dask"])
def test_ctrl_c_exits_130(topo_file: str, engine: tuple[str, ...]) -> None:
    """SIGINT mid-simulate: exit 130, one line on stderr, no traceback, workers gone."""
    result, children = _interrupt("simulate", topo_file, "--trials", "10000000000", "--json",
                                  *engine)
    assert result.returncode == 130
    assert result.stderr.splitlines() == ["interrupted: stopped by Ctrl-C"]
    assert result.stdout == ""
    # the workers were told to stop before the command exited; give them time to finish
    _, alive = psutil.wait_procs(children, timeout=60)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]


def test_progress_lines_in_ci(topo_file: str) -> None:
    """With CI set and stderr not a terminal, progress is plain lines on stderr only."""
    env = {**os.environ, "CI": "1"}
    result = subprocess.run([sys.executable, "-m", "georesil", "simulate", topo_file,
                             "--trials", "200000", "--json"], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1] == "simulating: 100% (200,000/200,000 trials)"
    assert all(line.startswith("simulating: ") for line in lines)
    json.loads(result.stdout)


def test_no_progress_without_terminal_or_ci(topo_file: str) -> None:
    """Without a terminal and without CI, nothing but the result is printed."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    result = subprocess.run([sys.executable, "-m", "georesil", "simulate", topo_file,
                             "--trials", "200000", "--json"], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0 and result.stderr == ""
