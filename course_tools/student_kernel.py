"""The submission's side of grading: runs its cells and answers the grader's requests.

``course_tools.grading`` starts ``python -m course_tools.student_kernel`` in a sandbox. Requests
arrive one JSON line at a time on stdin; each answer goes back as one line of plain data
(``course_tools.plain_data``) on the stdout the runner keeps for itself. The submission's own
output, even written straight to file descriptor 1, lands on stderr, which the grader caps.

- ``{"op": "run_cell", "source": ..., "timeout": s}``: runs a cell in IPython (magics work),
  answers ``{"ok", "output", "error": {"ename", "evalue"} or None}``;
- ``{"op": "call", "target": T, "args": A, "kwargs": K, "timeout": s}``: ``target(*args)``;
- ``{"op": "value", "target": T, "timeout": s}``: ``target``;
- ``{"op": "state", "target": T, "timeout": s}``: ``target.state_dict()``;

answering ``{"ok": true, "value": ...}`` or ``{"ok": false, "error": {...}}``. T, A and K are
plain-data messages. The target is a name (dotted: ``model.encode``) or a new instance of one
of the submission's classes (``{"__new__": {"class", "args", "kwargs", "state"}}``, its
``state_dict`` loaded from ``state`` when given). An argument may stand for one of the
submission's own objects (``{"__ref__": "model"}``) or for a torch module the grader made
(``{"__module__": base64 of torch.save}``: pickle travels only into the sandbox, where it can
harm nothing but the submission). Nothing here is trusted: the submission can rewrite all of it, and can then
only choose its own answers, which the grader checks.
"""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import sys

from course_tools import plain_data

MAX_OUTPUT = 20_000  # characters of a cell's output sent back (for feedback)
REF_KEY, MODULE_KEY, NEW_KEY = "__ref__", "__module__", "__new__"


class CellTimeout(BaseException):
    """A cell or call ran past its time limit (BaseException: ``except Exception`` misses it)."""


class CappedText(io.TextIOBase):
    """A text stream that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int = MAX_OUTPUT):
        self.kept: list[str] = []
        self.size = self.dropped = 0
        self.limit = limit

    def write(self, text) -> int:
        text = text if isinstance(text, str) else str(text)
        room = max(0, self.limit - self.size)
        self.kept.append(text[:room])
        self.size += min(len(text), room)
        self.dropped += len(text) - min(len(text), room)
        return len(text)

    def writable(self) -> bool:
        return True

    def getvalue(self) -> str:
        more = f"\n[... {self.dropped:,} more characters not kept]" if self.dropped else ""
        return "".join(self.kept) + more


def _error(error: BaseException) -> dict:
    return {"ename": type(error).__name__, "evalue": str(error)[:2000]}


class _time_limit:
    def __init__(self, seconds: float):
        self.seconds = float(seconds)

    def _alarm(self, signum, frame):
        raise CellTimeout(f"ran longer than {self.seconds:g} s and was stopped")

    def __enter__(self):
        signal.signal(signal.SIGALRM, self._alarm)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc):
        signal.setitimer(signal.ITIMER_REAL, 0)


def resolve(name: str, namespace: dict):
    """The object ``name`` (dotted) names in the submission's namespace."""
    if not isinstance(name, str) or not name:
        raise NameError(f"name={name!r}: expected a name")
    first, *rest = name.split(".")
    if first not in namespace:
        raise NameError(f"`{first}` is not defined: did the cell that defines it run without "
                        "errors?")
    value = namespace[first]
    for part in rest:
        value = getattr(value, part)
    return value


def _objects(value, namespace: dict):
    """Decoded arguments with their references and modules made into objects."""
    if isinstance(value, dict) and set(value) == {REF_KEY}:
        return resolve(value[REF_KEY], namespace)
    if isinstance(value, dict) and set(value) == {NEW_KEY}:
        spec = _objects(value[NEW_KEY], namespace)
        made = resolve(spec["class"], namespace)(*spec.get("args", []), **spec.get("kwargs", {}))
        if spec.get("state") is not None:
            made.load_state_dict(spec["state"])
        return made
    if isinstance(value, dict) and set(value) == {MODULE_KEY}:
        import torch

        return torch.load(io.BytesIO(base64.b64decode(value[MODULE_KEY])), weights_only=False)
    if isinstance(value, list):
        return [_objects(v, namespace) for v in value]
    if isinstance(value, dict):
        return {k: _objects(v, namespace) for k, v in value.items()}
    return value


def _run_cell(shell, source: str, seconds: float) -> dict:
    out = CappedText()
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = out
    try:
        with _time_limit(seconds):
            result = shell.run_cell(source, store_history=True)
        error = result.error_before_exec or result.error_in_exec
    except BaseException as caught:  # noqa: BLE001 - the alarm between IPython's own handlers
        error = caught
    finally:
        sys.stdout, sys.stderr = saved
    return {"ok": True, "output": out.getvalue(), "error": None if error is None else _error(error)}


def answer(request: dict, namespace: dict, shell=None) -> str:
    """The answer to one request, as a line of plain data (never raises)."""
    try:
        op, seconds = request["op"], float(request.get("timeout", 60))
        if op == "run_cell":
            reply = _run_cell(shell, request["source"], seconds)
        else:
            # decoded before the clock starts: the first tensor imports torch, which takes a while
            target = plain_data.decode(request["target"])
            args, kwargs = (plain_data.decode(request[key]) if op == "call" else None
                            for key in ("args", "kwargs"))
            with _time_limit(seconds):
                target = _objects(target, namespace)
                target = resolve(target, namespace) if isinstance(target, str) else target
                if op == "call":
                    value = target(*_objects(args, namespace), **_objects(kwargs, namespace))
                elif op == "value":
                    value = target
                elif op == "state":
                    if not callable(getattr(target, "state_dict", None)):
                        raise TypeError(f"{type(target).__name__} is not a torch module")
                    value = dict(target.state_dict())
                else:
                    raise ValueError(f"op={op!r}: expected run_cell, call, value or state")
            reply = {"ok": True, "value": value}
        return plain_data.encode(reply)
    except BaseException as error:  # noqa: BLE001 - whatever the submission raised is its answer
        if isinstance(error, plain_data.PlainDataError):
            error = TypeError(f"the answer is not plain data (numbers, strings, lists, dicts, "
                              f"arrays): {error}")
        return plain_data.encode({"ok": False, "error": _error(error)})


def main() -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    try:  # every chapter imports it; here, so that no request's deadline pays for the import
        import torch  # noqa: F401
    except ImportError:
        pass
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")  # the grader's channel
    os.dup2(2, 1)  # the submission's own output, even at the descriptor level, goes to stderr
    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    for line in sys.stdin:
        try:
            request = json.loads(line)
        except ValueError as error:
            reply = plain_data.encode({"ok": False, "error": _error(error)})
        else:
            reply = answer(request, shell.user_ns, shell)
        answers.write(reply + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
