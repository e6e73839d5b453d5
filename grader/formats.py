"""The report formats written to a file: our JSON (Gradescope's key names and more),
Gradescope's results.json and JUnit XML. Each is a function of the one result model's cases;
`FORMATS` is the registry the CLI offers (`course grade --format`): our JSON, Gradescope's
results.json, JUnit XML and GitHub Classroom's autograding result."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from courseware.files import write_atomically
from grader.results import BLOCKED, ERROR, NOT_ATTEMPTED, NOT_RUN, PASSED, Case, GradeReport

GRADESCOPE_OUTPUT = "Run `course grade` locally for the same checks, with hints (--hints)."


def as_json(report: GradeReport) -> dict:
    """Gradescope's keys (score, max_score, output, tests[]), plus what else is useful."""
    cases = list(report.cases(not_run=True))
    return {
        "score": report.score,
        "max_score": report.max_score,
        "output": f"{report.score:g}/{report.max_score:g} on {report.target}",
        "execution_time": report.seconds,
        "tests": [_json_test(c) for c in cases if c.state != NOT_RUN],
        "not_run": [
            {"exercise": c.exercise, "name": c.title, "reason": c.output}
            for c in cases
            if c.state == NOT_RUN
        ],
        "exercises": [e.summary() for e in report.exercises],
        "devices": report.devices,
        "isolation": report.isolation,
        "versions": report.versions,
    }


def _json_test(case: Case) -> dict:
    entry = {**_test(case), "exercise": case.exercise, "state": case.state}
    if case.check is not None:
        entry.update(check=case.check, device=case.device, seconds=case.seconds)
    if case.detail:
        entry["detail"] = case.detail
    if case.figures:
        entry["figures"] = [figure.to_dict() for figure in case.figures]
    return entry


def _test(case: Case) -> dict:
    """The keys Gradescope knows, for one case."""
    return {
        "name": case.name,
        "score": case.score,
        "max_score": case.max_score,
        "status": case.status,
        "output": case.output,
    }


def gradescope(report: GradeReport) -> dict:
    """Exactly Gradescope's results.json: score, execution_time, output, tests[]. Every text
    is plain text (`output_format`), so nothing in it is rendered as HTML or Markdown."""
    why = next((e.message for e in report.exercises if e.state == ERROR), "")
    return {
        "score": report.score,
        "execution_time": math.ceil(report.seconds),
        "output": f"{report.score:g}/{report.max_score:g} points. {why or GRADESCOPE_OUTPUT}",
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "tests": [{**_test(c), "visibility": "visible"} for c in report.cases()],
    }


def classroom(report: GradeReport) -> dict:
    """GitHub Classroom's autograding result (what its grading reporter reads, base64-encoded,
    from a step's output): status, max_score and a test per case with its points."""
    tests = [
        {"name": c.name, "status": "pass" if c.state == PASSED else "fail", "score": c.score,
         "message": c.output, "line_no": 0, "duration": round(c.seconds * 1000)}
        for c in report.cases()
    ]  # fmt: skip
    error = any(e.state == ERROR for e in report.exercises)
    status = "error" if error else "pass" if report.all_passed else "fail"
    return {"version": 1, "status": status, "max_score": report.max_score, "tests": tests}


def junit(report: GradeReport) -> str:
    """JUnit XML: one testsuite per exercise, one testcase per check."""
    suites = ET.Element("testsuites", name="course grade", time=f"{report.seconds:.3f}")
    for ex in report.exercises:
        cases = list(ex.cases())
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"{ex.id} {ex.title}",
            tests=str(len(cases)),
            failures=str(sum(c.state in ("failed", NOT_ATTEMPTED, BLOCKED) for c in cases)),
            errors=str(sum(c.state == ERROR for c in cases)),
        )
        for case in cases:
            _junit_case(suite, case)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _junit_case(suite: ET.Element, case: Case) -> None:
    element = ET.SubElement(suite, "testcase", classname=case.exercise, name=case.name)
    ET.SubElement(element, "properties").extend(
        [ET.Element("property", name="score", value=f"{case.score:g}"),
         ET.Element("property", name="max_score", value=f"{case.max_score:g}")]
    )  # fmt: skip
    if case.state == PASSED:
        return
    first = case.output.splitlines()[0] if case.output else case.state
    if case.state == ERROR:
        ET.SubElement(element, "error", message=first).text = case.output
    else:
        ET.SubElement(element, "failure", message=first, type=case.state).text = case.output


def _json_text(data: dict) -> str:
    return json.dumps(data, indent=2) + "\n"


FORMATS: dict[str, Callable[[GradeReport], str]] = {
    "json": lambda report: _json_text(as_json(report)),
    "gradescope": lambda report: _json_text(gradescope(report)),
    "junit": junit,
    "classroom": lambda report: _json_text(classroom(report)),
}
SUFFIXES = {"json": ".json", "gradescope": ".json", "junit": ".xml", "classroom": ".json"}


def write_report(report: GradeReport, fmt: str, path: Path) -> None:
    """Write `report` in the format `fmt` (a key of FORMATS), atomically."""
    write_atomically(path, FORMATS[fmt](report))
