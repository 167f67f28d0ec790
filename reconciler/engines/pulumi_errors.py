"""Failures of the Pulumi CLI and the Automation API -> the reconciler's error tree (pure).

The SDK raises ``CommandError`` (and subclasses it picks from the CLI's output:
``ConcurrentUpdateError``, ``InlineSourceRuntimeError``...) whose text is the CLI's exit code,
stdout and stderr; it raises ``FileNotFoundError`` when there is no ``pulumi`` to run and
``InvalidVersionError`` for a CLI too old. The type of the reconciler error decides what happens
next (``reconciler.errors``), so the rules, first match wins:

==========================================================  =========================================
what Pulumi said                                            reconciler error
==========================================================  =========================================
no CLI: FileNotFoundError for ``pulumi``, "pulumi: not      EngineError: install the CLI or use
found", the SDK's "Could not find the pulumi CLI"           ``--engine sandbox``
InvalidVersionError                                         EngineError: upgrade the CLI
ConcurrentUpdateError, "[409] Conflict: Another update..",  EngineBusy (retry later), naming the
a ``file://``/bucket backend's "the stack is currently      holder of the lock when Pulumi says who
locked by N lock(s)"
missing or wrong passphrase                                 ConfigError
the inline program raised ("python inline source runtime    EngineError with the program's message
error: ...")
throttling: ThrottlingException, "Rate exceeded",           EngineBusy (retry later)
TooManyRequests, HTTP status 429, "throttled"
anything else                                               EngineError with the tail of stderr (and
                                                            the error diagnostics of the run)
==========================================================  =========================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Callable, Sequence

from reconciler.errors import ConfigError, EngineBusy, EngineError, ReconcilerError

LOCK_DELAY = 15.0  # another Pulumi operation holds the stack: it usually ends within minutes
THROTTLE_DELAY = 30.0  # the cloud asked us to slow down
TAIL_LINES = 15
TAIL_CHARS = 2000
INSTALL_HINT = ("install the Pulumi CLI (https://www.pulumi.com/docs/install/) and put `pulumi` on PATH, "
                "or run with --engine sandbox")

_COMMAND_RESULT = re.compile(r"\A\n code: (?P<code>-?\d+)\n stdout: (?P<stdout>.*)\n stderr: (?P<stderr>.*)\Z", re.S)
_NO_CLI = re.compile(r"pulumi: (?:command )?not found|could not find the pulumi cli|"
                     r"exec: \"pulumi\": executable file not found", re.I)
_SERVICE_CONFLICT = "[409] Conflict: Another update is currently in progress."
_LOCKED = "the stack is currently locked by"
_LOCK_HOLDER = re.compile(r"(?P<lock>\S+): created by (?P<who>\S+) \(pid (?P<pid>\d+)\) at (?P<when>\S+)")
_PASSPHRASE_MISSING = re.compile(r"passphrase must be set with PULUMI_CONFIG_PASSPHRASE|"
                                 r"unable to find either `?PULUMI_CONFIG_PASSPHRASE|"
                                 r"unable to read PULUMI_CONFIG_PASSPHRASE_FILE")
_PASSPHRASE_WRONG = re.compile(r"incorrect passphrase")
_PROGRAM = re.compile(r"python inline source runtime error: (?P<message>[^\n]*)")
_THROTTLED = re.compile(r"ThrottlingException|Rate exceeded|TooManyRequests|Too Many Requests|RequestLimitExceeded|"
                        r"\bthrottl(?:ed|ing)\b|"
                        r"(?:status ?code[:=]? ?|status[:=] ?|HTTP[/ ](?:\d\.\d )?|\[)429\b", re.I)


@dataclass(frozen=True)
class Failure:
    """What is known of one failed operation."""

    operation: str  # preview | up | destroy | refresh | ...
    stack: str
    exc: BaseException
    code: int | None
    stdout: str
    stderr: str
    diagnostics: tuple[str, ...]  # error diagnostics the event stream carried

    @property
    def text(self) -> str:
        parts = [p for p in (self.stderr, self.stdout, *self.diagnostics) if p]
        return "\n".join(parts) if parts else str(self.exc)

    def tail(self) -> str:
        lines = [line for line in (self.stderr or self.stdout or str(self.exc)).splitlines() if line.strip()]
        return "\n".join(lines[-TAIL_LINES:])[-TAIL_CHARS:]


def failure(exc: BaseException, operation: str, stack: str, diagnostics: Sequence[str] = ()) -> Failure:
    """The parts of a ``CommandError``'s text (``str(CommandResult)``: code, stdout, stderr)."""
    match = _COMMAND_RESULT.match(str(exc))
    if match is None:
        return Failure(operation, stack, exc, None, "", "", tuple(diagnostics))
    return Failure(operation, stack, exc, int(match["code"]), match["stdout"], match["stderr"], tuple(diagnostics))


def map_error(exc: BaseException, operation: str, stack: str, diagnostics: Sequence[str] = ()) -> ReconcilerError:
    """The reconciler error for ``exc``, raised by a Pulumi ``operation`` on ``stack``."""
    if isinstance(exc, ReconcilerError):
        return exc
    found = failure(exc, operation, stack, diagnostics)
    for rule in _RULES:
        error = rule(found)
        if error is not None:
            return error
    return _other(found)


# ---------------------------------------------------------------------------------------------
# The rules, in order

def _missing_cli(f: Failure) -> ReconcilerError | None:
    missing = isinstance(f.exc, FileNotFoundError) and PurePath(str(f.exc.filename or "")).name == "pulumi"
    if missing or _NO_CLI.search(f.text):
        return EngineError(f"the pulumi engine needs the Pulumi CLI, which was not found: {INSTALL_HINT}")
    return None


def _cli_version(f: Failure) -> ReconcilerError | None:
    from pulumi.automation import InvalidVersionError

    if isinstance(f.exc, InvalidVersionError):
        return EngineError(f"the installed Pulumi CLI cannot be used: {f.exc}; install a current CLI "
                           "(https://www.pulumi.com/docs/install/) or run with --engine sandbox")
    return None


def _locked(f: Failure) -> ReconcilerError | None:
    from pulumi.automation import ConcurrentUpdateError

    text = f.text
    if not (isinstance(f.exc, ConcurrentUpdateError) or _SERVICE_CONFLICT in text or _LOCKED in text):
        return None
    holder = _LOCK_HOLDER.search(text)
    if holder:
        who = f"{holder['who']}, pid {holder['pid']}, since {holder['when']}"
        return EngineBusy(f"stack {f.stack} is locked by another Pulumi operation ({who}); retrying later. "
                          f"If that process is gone, remove the stale lock {holder['lock']} "
                          "(pulumi cancel)", LOCK_DELAY)
    return EngineBusy(f"stack {f.stack} has another update in progress on the Pulumi backend; retrying later",
                      LOCK_DELAY)


def _passphrase(f: Failure) -> ReconcilerError | None:
    if _PASSPHRASE_MISSING.search(f.text):
        return ConfigError(f"Pulumi needs the passphrase of stack {f.stack}'s secrets: export "
                           "PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) before running")
    if _PASSPHRASE_WRONG.search(f.text):
        return ConfigError(f"the passphrase given does not unlock stack {f.stack}'s secrets: set "
                           "PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to the stack's passphrase")
    return None


def _program(f: Failure) -> ReconcilerError | None:
    from pulumi.automation import InlineSourceRuntimeError

    match = _PROGRAM.search("\n".join((*f.diagnostics, f.stdout, f.stderr)))
    if match and match["message"].strip():
        return EngineError(f"the stack program of {f.stack} failed: {match['message'].strip()}")
    if isinstance(f.exc, InlineSourceRuntimeError):
        return EngineError(f"the stack program of {f.stack} failed:\n{f.tail()}")
    return None


def _throttled(f: Failure) -> ReconcilerError | None:
    match = _THROTTLED.search(f.text)
    if match is None:
        return None
    return EngineBusy(f"the cloud is throttling the requests of stack {f.stack} ({_line_of(f.text, match.start())}); "
                      "retrying later", THROTTLE_DELAY)


def _other(f: Failure) -> ReconcilerError:
    from pulumi.automation import CommandError

    if not isinstance(f.exc, CommandError):
        return EngineError(f"pulumi {f.operation} of stack {f.stack} failed: {type(f.exc).__name__}: {f.exc}")
    message = f"pulumi {f.operation} of stack {f.stack} failed (exit {f.code}):\n{f.tail()}"
    errors = [d for d in f.diagnostics if d not in message]
    if errors:
        message += "\n" + "\n".join(errors[-5:])
    return EngineError(message)


def _line_of(text: str, position: int) -> str:
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    return text[start:end if end >= 0 else None].strip()[:300]


_RULES: tuple[Callable[[Failure], ReconcilerError | None], ...] = (
    _missing_cli, _cli_version, _locked, _passphrase, _program, _throttled)
