"""Commands in the docs: found in fenced `sh` blocks, split as bash splits them, and run
in one bash session per document against a running system.

A command is one complete shell command (continuation lines, multi-line quotes and
functions included: `bash -n` decides where it ends). The comment lines just above it
are its `note`; a comment line just below it that is JSON is its `shown` output.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r"^```(sh|bash|shell)\s*$")
# `<id>` in a usage line: a placeholder, not shell (bash would read a redirection).
PLACEHOLDER = re.compile(r"<[A-Za-z_-]+>")
REFUSAL = re.compile(r"\b(refus\w*|reject\w*|forbidden|denied|40[0-9]|409|422)\b", re.I)


@dataclass
class Command:
    doc: str
    line: int
    text: str
    note: str = ""
    shown: str | None = None  # output the doc shows right after the command

    @property
    def key(self) -> str:
        """The command as one line, whitespace collapsed (how the not-runnable list and
        reports name it)."""
        lines = [_without_comment(line) for line in self.text.split("\n")]
        return " ".join("\n".join(lines).replace("\\\n", " ").split())

    @property
    def expects_refusal(self) -> bool:
        """The doc says this call is refused (a comment right above it)."""
        return bool(REFUSAL.search(self.note))


def _without_comment(line: str) -> str:
    """`cmd  # why` -> `cmd` (a # outside quotes, after a space, starts a comment)."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line


def _complete(text: str) -> bool:
    if text.rstrip().endswith(("\\", "|", "&&", "||")):
        return False
    return subprocess.run(["bash", "-n", "-c", text], capture_output=True,
                          timeout=10).returncode == 0


def extract(path: Path, root: Path) -> list[Command]:
    """Every command of every sh block in `path`."""
    commands: list[Command] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    inside = False
    pending: list[str] = []
    start = 0
    note: list[str] = []
    for number, line in enumerate(lines, 1):
        if not inside:
            inside = bool(FENCE.match(line.strip()))
            note = []
            continue
        if line.strip() == "```":
            if pending:
                commands.append(Command(str(path.relative_to(root)), start, "\n".join(pending),
                                        " ".join(note)))
            inside, pending = False, []
            continue
        stripped = line.strip()
        if not pending:
            if not stripped:
                note = []
                continue
            if stripped.startswith("#"):
                comment = stripped.lstrip("#").strip()
                if commands and commands[-1].shown is None and _looks_like_output(comment) \
                        and commands[-1].line >= number - 1 - commands[-1].text.count("\n"):
                    commands[-1].shown = comment
                else:
                    note.append(comment)
                continue
            start = number
            if PLACEHOLDER.search(stripped):
                commands.append(Command(str(path.relative_to(root)), number, line,
                                        " ".join(note)))
                note = []
                continue
        pending.append(line)
        if _complete("\n".join(pending)):
            commands.append(Command(str(path.relative_to(root)), start, "\n".join(pending),
                                    " ".join(note)))
            pending, note = [], []
    return commands


def _looks_like_output(comment: str) -> bool:
    try:
        json.loads(comment)
    except ValueError:
        return False
    return comment[:1] in "[{\""


@dataclass
class Outcome:
    command: Command
    returncode: int | None  # None: not reached (an earlier command hung)
    output: str
    problems: list[str] = field(default_factory=list)


def run_session(commands: list[Command], *, cwd: Path, env: dict[str, str],
                prelude: str, rewrite: dict[str, str], timeout: float) -> list[Outcome]:
    """Run `commands` in order in one bash process (variables carry from one to the
    next, as in a reader's terminal); each command's exit code and output."""
    script = [prelude, "set -o pipefail"]
    for i, command in enumerate(commands):
        text = command.text
        for old, new in rewrite.items():
            text = text.replace(old, new)
        script += [f"echo '@@start {i}'", text, f"echo \"@@rc {i} $?\""]
    try:
        done = subprocess.run(["bash", "-c", "\n".join(script)], cwd=cwd, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
        output = done.stdout
    except Exception as exc:  # eventlet's green subprocess has its own TimeoutExpired
        if type(exc).__name__ != "TimeoutExpired":
            raise
        partial = getattr(exc, "stdout", None) or getattr(exc, "output", None) or b""
        output = partial.decode(errors="replace") if isinstance(partial, bytes) else partial
    outcomes = []
    for i, command in enumerate(commands):
        match = re.search(rf"@@start {i}\n(.*?)@@rc {i} (\d+)\n", output, re.S)
        if match is not None:
            outcomes.append(Outcome(command, int(match.group(2)), match.group(1)))
            continue
        started = re.search(rf"@@start {i}\n(.*)", output, re.S)
        outcome = Outcome(command, None, started.group(1) if started else "")
        if started:
            outcome.problems.append(f"did not return within the session's {timeout:.0f} s")
        outcomes.append(outcome)
    return outcomes


def judge(outcome: Outcome) -> list[str]:
    """What is wrong with how a command ran (nothing: it did what the doc says)."""
    command, rc = outcome.command, outcome.returncode
    if rc is None:
        return outcome.problems or ["not reached: an earlier command did not return in time"]
    problems = []
    if command.expects_refusal:
        if rc == 0:
            problems.append("the doc says this is refused, but it succeeded")
    elif rc != 0:
        problems.append(f"exit {rc}")
    if command.shown is not None:
        lines = [line for line in outcome.output.splitlines()
                 if line.strip() and not line.startswith("@@")]
        got = lines[-1].strip() if lines else ""
        if not _same(got, command.shown):
            problems.append(f"the doc shows {command.shown}, the command printed {got[:200]}")
    if "Traceback (most recent call last)" in outcome.output:
        problems.append("a traceback")
    return problems


def _same(got: str, shown: str) -> bool:
    """The printed line is what the doc shows; `...` in the doc stands for anything
    (a doc may shorten a long message)."""
    if "..." in shown:
        pattern = ".*".join(re.escape(part) for part in shown.split("..."))
        return re.fullmatch(pattern, got.strip()) is not None
    return _normal(got) == _normal(shown)


def _normal(text: str) -> str:
    try:
        return json.dumps(json.loads(text), sort_keys=True)
    except ValueError:
        return text.strip()
