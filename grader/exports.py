"""Writers for the platforms instructors use: Gradescope's results.json and JUnit XML.
Both read the same GradeReport as the terminal and JSON reports."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from grader.results import BLOCKED, ERROR, NOT_ATTEMPTED, NOT_RUN, PASSED, GradeReport


def _cases(report: GradeReport):
    """(exercise, name, score, max_score, state, message) for every case worth reporting:
    a not-attempted exercise is one case; a check on an absent device is none."""
    for ex in report.exercises:
        if ex.state == NOT_ATTEMPTED:
            yield (
                ex,
                f"{ex.id} {ex.title}: not attempted",
                0.0,
                ex.max_score,
                NOT_ATTEMPTED,
                ex.message,
            )
        for c in ex.checks:
            if c.state != NOT_RUN:
                yield ex, f"{ex.id} {c.title}", c.score, c.max_score, c.state, c.message


def gradescope(report: GradeReport) -> dict:
    """Exactly Gradescope's results.json: score, execution_time, output, tests[]."""
    tests = [
        {
            "name": name,
            "score": score,
            "max_score": max_score,
            "status": "passed" if state == PASSED else "failed",
            "output": message,
            "visibility": "visible",
        }
        for _, name, score, max_score, state, message in _cases(report)
    ]
    return {
        "score": report.score,
        "execution_time": math.ceil(report.seconds),
        "output": f"{report.score:g}/{report.max_score:g} points. "
        + "Run `course grade` locally for the same checks, with hints (--hints).",
        "tests": tests,
    }


def junit(report: GradeReport) -> str:
    """JUnit XML: one testsuite per exercise, one testcase per check."""
    suites = ET.Element("testsuites", name="course grade", time=f"{report.seconds:.3f}")
    for ex in report.exercises:
        cases = [c for c in _cases(report) if c[0] is ex]
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"{ex.id} {ex.title}",
            tests=str(len(cases)),
            failures=str(sum(c[4] in ("failed", NOT_ATTEMPTED, BLOCKED) for c in cases)),
            errors=str(sum(c[4] == ERROR for c in cases)),
        )
        for _, name, score, max_score, state, message in cases:
            case = ET.SubElement(suite, "testcase", classname=ex.id, name=name)
            ET.SubElement(case, "properties").extend(
                [ET.Element("property", name="score", value=f"{score:g}"),
                 ET.Element("property", name="max_score", value=f"{max_score:g}")]
            )  # fmt: skip
            if state == ERROR:
                ET.SubElement(
                    case, "error", message=message.splitlines()[0] if message else state
                ).text = message
            elif state != PASSED:
                first = message.splitlines()[0] if message else state
                ET.SubElement(case, "failure", message=first, type=state).text = message
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
