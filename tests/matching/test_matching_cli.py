"""`python -m matching generate | solve | check`, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from matching.generate import generate
from matching.problem_io import problem_from_dict

REPOSITORY = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "matching", *args],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_generate_solve_check(tmp_path: Path) -> None:
    generated = run("generate", "--size", "town", "--seed", "4", "--congestion", "0.3")
    assert generated.returncode == 0, generated.stderr
    problem = tmp_path / "problem.json"
    problem.write_text(generated.stdout)
    assert len(json.loads(generated.stdout)["requests"]) == 90

    solved = run("solve", str(problem), "--time-limit", "10", "--workers", "2", "--seed", "1")
    assert solved.returncode == 0, solved.stderr
    solution = json.loads(solved.stdout)
    assert solution["status"] in ("OPTIMAL", "FEASIBLE")
    assert {"assignments", "unassigned", "objective", "bound", "solve_seconds"} <= set(solution)
    solution_file = tmp_path / "solution.json"
    solution_file.write_text(solved.stdout)

    checked = run("check", str(problem), str(solution_file))
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.startswith("FEASIBLE")
    assert "filled priority:" in checked.stdout


def test_check_exits_1_on_an_infeasible_solution(tmp_path: Path) -> None:
    problem = tmp_path / "problem.json"
    problem.write_text(
        json.dumps(
            {
                "mediators": [{"id": "m1", "languages": {"uk": "native"}}],
                "requests": [
                    {
                        "id": "r1",
                        "language": "ar",
                        "mode": "phone",
                        "start": "2026-12-01T09:00:00+01:00",
                        "end": "2026-12-01T10:00:00+01:00",
                    }
                ],
            }
        )
    )
    solution = tmp_path / "solution.json"
    solution.write_text(
        json.dumps({"assignments": [{"request": "r1", "mediator": "m1"}], "unassigned": []})
    )
    checked = run("check", str(problem), str(solution))
    assert checked.returncode == 1
    assert "INFEASIBLE" in checked.stdout
    assert "language(language=ar) (r1, m1)" in checked.stdout


def test_bad_problem_file_gives_a_clear_error(tmp_path: Path) -> None:
    problem = tmp_path / "problem.json"
    problem.write_text(json.dumps({"mediators": [{"languages": {}}], "requests": []}))
    solved = run("solve", str(problem))
    assert solved.returncode == 2
    assert "mediator #0: field 'id' is missing" in solved.stderr


def test_deterministic_solve_prints_the_same_plan_twice(tmp_path: Path) -> None:
    problem = tmp_path / "problem.json"
    problem.write_text(run("generate", "--size", "town", "--seed", "6", "--congestion", "2").stdout)
    args = (
        "solve",
        str(problem),
        "--time-limit",
        "0.5",
        "--workers",
        "1",
        "--seed",
        "3",
        "--deterministic",
    )
    first, second = run(*args), run(*args)
    assert first.returncode == second.returncode == 0, first.stderr
    plans = [json.loads(out.stdout)["assignments"] for out in (first, second)]
    assert plans[0] and plans[0] == plans[1]


def test_generate_preset_gives_the_congested_week() -> None:
    generated = run("generate", "--preset", "town", "--seed", "1", "--congestion", "0.5")
    assert generated.returncode == 0, generated.stderr
    problem = problem_from_dict(json.loads(generated.stdout))
    assert len(problem.requests) == 150 and len(problem.mediators) == 80
    expected = generate("town", seed=1, preset=True, congestion=0.5)
    assert [r.language for r in problem.requests] == [r.language for r in expected.requests]


def test_out_of_range_numbers_are_refused_with_the_argument_named() -> None:
    # A negative, infinite or undefined scale made a traceback or a one-request week.
    for congestion in ("-1", "0", "nan", "inf", "1e309", "11"):
        refused = run("generate", "--preset", "town", "--congestion", congestion)
        assert refused.returncode == 2 and refused.stdout == ""
        assert "argument --congestion: must be above 0 and at most 10" in refused.stderr
    for option, value in (("--workers", "0"), ("--time-limit", "nan"), ("--time-limit", "-5")):
        refused = run("solve", "problem.json", option, value)
        assert refused.returncode == 2 and f"argument {option}: must be" in refused.stderr
