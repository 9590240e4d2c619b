"""Run a command that may be hostile (a student's submission) in a sandbox of its own.

The sandbox is bubblewrap (Debian's ``bubblewrap``, ``bwrap``), the tool Flatpak uses: it needs
no daemon and no root, unlike Docker, and sets up the namespaces, mounts and privileges in one
audited program, which ``unshare`` plus ``setpriv`` plus our own mount code would not. Inside:

- its own user, process, network, IPC, hostname and mount namespaces; an unprivileged uid with
  no capabilities; it dies with the grader (``--die-with-parent``), and when the sandbox's first
  process ends, the kernel kills every process left in its process namespace: nothing outlives
  a run, not a ``setsid`` daemon either;
- no network (only a loopback device of its own);
- read-only: the paths given in ``readable`` (the Python environment, the course package, the
  data) and the system's ``/usr``; writable: one private folder (``workdir``, seen as
  ``/sandbox``) and an empty ``/tmp``; nothing else of the host exists in it (not the hidden
  tests, not other submissions, not the results, not the grader's home);
- an environment of exactly the variables passed in ``env``;
- limits: address space (memory), processes, CPU seconds, size of any written file, bytes of
  output and wall-clock seconds. At a limit the whole sandbox is killed, and the outcome names
  the limit.

When the grader runs as root (as on CI), bubblewrap runs as root, and the sandbox's uid 65534
has no capabilities in its user namespace; outside it, its processes and files count as root's.
(Starting bubblewrap as ``nobody`` instead would hide the interpreter when it is installed under
root's home, as pyenv does.)

    outcome = run([sys.executable, "-c", "print(1)"], workdir=folder, readable=python_paths())
"""

from __future__ import annotations

import dataclasses
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

NOBODY = 65534  # the uid and gid the sandbox runs as inside its user namespace
INSIDE = "/sandbox"  # where workdir appears inside
MEMORY_SIGNS = ("MemoryError", "Cannot allocate memory", "std::bad_alloc", "out of memory")
PROCESS_SIGNS = ("Resource temporarily unavailable", "can't start new thread")
PIDS_CGROUPS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))  # cgroup v1, v2


@dataclass(frozen=True)
class Limits:
    """What one sandboxed run may use."""

    memory_mb: int = 4096  # address space of each process (RLIMIT_AS)
    processes: int = 64  # processes and threads (a pids cgroup as root, else RLIMIT_NPROC)
    cpu_seconds: int = 600  # CPU time of each process (RLIMIT_CPU)
    file_mb: int = 256  # size of any file it writes (RLIMIT_FSIZE)
    output_bytes: int = 1_000_000  # stdout and stderr together
    wall_seconds: float = 900.0  # from start to end

    def __post_init__(self):
        for name, value in vars(self).items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"Limits.{name}={value!r}: expected a positive number")


@dataclass(frozen=True)
class Outcome:
    returncode: int | None  # None when a limit killed it
    stdout: str
    stderr: str
    limit: str | None = None  # the limit that stopped it, in words, or None
    seconds: float = 0.0


def available() -> str | None:
    """None when sandboxes can run here, else the reason they cannot."""
    if not sys.platform.startswith("linux"):
        return "the sandbox needs Linux namespaces"
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (Debian: apt-get install bubblewrap)"
    probe = subprocess.run(_launcher() + ["--unshare-all", "--ro-bind", "/", "/", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"bubblewrap cannot create namespaces here: {probe.stderr.strip()[:200]}"
    return None


def python_paths() -> list[Path]:
    """What a Python program of this environment needs to read: the interpreter's installation
    and the virtual environment (which holds the course package, installed or editable)."""
    paths = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    import course_utils  # an editable install reads the package from the checkout

    paths.add(Path(course_utils.__file__).resolve().parent)
    return sorted(paths)


def _launcher() -> list[str]:
    return [shutil.which("bwrap") or "bwrap"]


def bwrap_arguments(command: list[str], *, workdir: Path, readable: list[Path],
                    env: dict[str, str], binds: dict[str, Path] | None = None) -> list[str]:
    """The bubblewrap command line for ``command`` (see the module's docstring); ``binds``
    maps a path inside to a host path shown there read-only."""
    args = _launcher() + [
        "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
        "--uid", str(NOBODY), "--gid", str(NOBODY), "--hostname", "sandbox",
        "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
    ]
    for name in ("bin", "lib", "lib64", "sbin"):  # merged /usr: links; else read-only copies
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for path in readable:
        path = Path(path).resolve()
        if not path.exists():
            raise FileNotFoundError(f"readable: {path} does not exist")
        args += ["--ro-bind", str(path), str(path)]
    for inside, path in (binds or {}).items():
        if not Path(path).exists():
            raise FileNotFoundError(f"binds: {path} does not exist")
        args += ["--ro-bind", str(Path(path).resolve()), inside]
    args += ["--bind", str(Path(workdir).resolve()), INSIDE, "--chdir", INSIDE, "--clearenv"]
    for key, value in {"HOME": INSIDE, "PATH": "/usr/bin:/bin", **env}.items():
        args += ["--setenv", key, value]
    return args + ["--", *command]


def _pids_cgroup(processes: int) -> Path | None:
    """A new cgroup holding at most ``processes`` tasks, where we may make one (as root), else
    None. RLIMIT_NPROC alone does not bind root, whose processes the sandbox's are outside."""
    if os.geteuid() != 0:
        return None
    for base in PIDS_CGROUPS:
        controllers = base / "cgroup.subtree_control"  # v2: pids must be delegated below
        usable = (base / "cgroup.procs").exists() and os.access(base, os.W_OK) and (
            base.name == "pids" or (controllers.exists() and "pids" in controllers.read_text().split()))
        if not usable:
            continue
        group = base / f"course-sandbox-{os.getpid()}-{time.monotonic_ns()}"
        try:
            group.mkdir()
            (group / "pids.max").write_text(str(processes))
            return group
        except OSError:
            return None
    return None


def processes_limited() -> bool:
    """Whether Limits.processes binds here: always for a non-root grader (RLIMIT_NPROC), for
    root only where a pids cgroup can be made."""
    if os.geteuid() != 0:
        return True
    group = _pids_cgroup(1)
    _remove_cgroup(group)
    return group is not None


def _remove_cgroup(group: Path | None) -> None:
    if group is None:
        return
    for _ in range(50):  # the kernel empties it as the killed processes are reaped
        try:
            group.rmdir()
            return
        except OSError:
            time.sleep(0.1)


def _rlimits(limits: Limits, group: Path | None):
    """preexec_fn: the limits, inherited by everything the sandbox starts."""
    mb = 1024 * 1024

    def apply():
        if group is not None:
            (group / "cgroup.procs").write_text(str(os.getpid()))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_CPU, (int(limits.cpu_seconds), int(limits.cpu_seconds) + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes,) * 2)

    return apply


def run(command: list[str], *, workdir: Path, readable: list[Path] = (),
        env: dict[str, str] | None = None, limits: Limits = Limits(),
        stdin: bytes | None = None) -> Outcome:
    """Run ``command`` in a sandbox to its end (module docstring), ``stdin`` as its input;
    never raises because of what it does."""
    session = Session(command, workdir=workdir, readable=readable, env=env, limits=limits)
    return session.finish(stdin or b"")


def limit_hit(code: int | None, stderr: str, limits: Limits) -> str | None:
    """The limit that ended a process with exit status ``code``, judged from it and its stderr."""
    if code in (-signal.SIGXCPU, 128 + signal.SIGXCPU):  # RLIMIT_CPU's signal
        return f"CPU-time limit: used more than {limits.cpu_seconds} CPU seconds"
    if code != 0 and any(sign in stderr for sign in MEMORY_SIGNS):
        return f"memory limit: more than {limits.memory_mb} MB of address space"
    if code != 0 and any(sign in stderr for sign in PROCESS_SIGNS):
        return f"process limit: more than {limits.processes} processes and threads"
    return None


class Stopped(RuntimeError):
    """The sandboxed process is gone (a limit, a crash, or it ended); the text says why."""


class Session:
    """A sandboxed process to talk to: requests as lines on its stdin, answers as lines on its
    stdout; its stderr is read and capped as a run's output. Limits as in ``run``, and each
    request has its own deadline: past it, the whole sandbox is killed.

        with Session(command, workdir=..., readable=...) as session:
            reply = session.request(b"...", timeout=10)
    """

    def __init__(self, command: list[str], *, workdir: Path, readable: list[Path] = (),
                 env: dict[str, str] | None = None, limits: Limits = Limits(),
                 binds: dict[str, Path] | None = None, sandboxed: bool = True,
                 max_answer_bytes: int = 64 * 1024 * 1024):
        if not command or not all(isinstance(part, str) for part in command):
            raise ValueError(f"command={command!r}: expected a non-empty list of strings")
        if not Path(workdir).is_dir():
            raise NotADirectoryError(f"workdir: {workdir} is not a folder")
        self.limits, self.max_answer_bytes = limits, max_answer_bytes
        self.started = time.monotonic()
        if sandboxed:
            argv, cwd, environment = bwrap_arguments(command, workdir=workdir, readable=list(readable),
                                                     env=env or {}, binds=binds), None, None
            self.group = _pids_cgroup(limits.processes)
        else:  # the instructor's explicit choice: limits, but no namespaces
            argv, cwd, environment, self.group = command, workdir, {"PATH": "/usr/bin:/bin", **(env or {})}, None
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, preexec_fn=_rlimits(limits, self.group),
                                        start_new_session=True, cwd=cwd, env=environment)
        self.stderr, self.stdout = bytearray(), bytearray()  # stdout: what finish() read
        self.stopped: str | None = None  # why it was killed
        self._pending = bytearray()
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        self._timer = threading.Timer(limits.wall_seconds, self.kill,
                                      [f"wall-time limit: ran longer than {limits.wall_seconds:g} s"])
        self._timer.daemon = True
        self._timer.start()

    def _read_stderr(self) -> None:
        while chunk := self.process.stderr.read1(65536):
            if len(self.stderr) <= self.limits.output_bytes:
                self.stderr += chunk
            self._check_output()

    def _check_output(self) -> None:
        if len(self.stderr) + len(self.stdout) > self.limits.output_bytes:
            self.kill(f"output limit: more than {self.limits.output_bytes:,} bytes printed")

    def kill(self, reason: str) -> None:
        if self.stopped is None:
            self.stopped = reason
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # the launcher; the kernel ends the rest
        except ProcessLookupError:
            pass

    def why_gone(self) -> str:
        """Why the process no longer answers, in words."""
        if self.stopped:
            return self.stopped
        code = self.process.wait()
        stderr = self.stderr.decode(errors="replace")
        return limit_hit(code, stderr, self.limits) or f"it ended (exit status {code})"

    def request(self, line: bytes, timeout: float) -> bytes:
        """Send one line, return the line that answers it; raises Stopped when the process is
        gone, or kills it and raises Stopped when no answer comes within ``timeout`` seconds."""
        if self.stopped or self.process.poll() is not None:
            raise Stopped(self.why_gone())
        try:
            self.process.stdin.write(line.rstrip(b"\n") + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise Stopped(self.why_gone()) from None
        deadline = time.monotonic() + timeout
        stream = self.process.stdout
        while b"\n" not in self._pending:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill(f"time limit: no answer within {timeout:g} s (it ignored the stop)")
                raise Stopped(self.stopped)
            ready, _, _ = select.select([stream], [], [], left)
            if not ready:
                continue
            chunk = os.read(stream.fileno(), 1 << 20)
            if not chunk:
                raise Stopped(self.why_gone())
            self._pending += chunk
            if len(self._pending) > self.max_answer_bytes:
                self.kill(f"output limit: an answer of more than {self.max_answer_bytes:,} bytes")
                raise Stopped(self.stopped)
        answer, _, rest = bytes(self._pending).partition(b"\n")
        self._pending = bytearray(rest)
        return answer

    def finish(self, stdin: bytes = b"") -> Outcome:
        """Give the process ``stdin``, read its stdout to the end, and close: what ``run`` does."""
        def feed():
            try:
                self.process.stdin.write(stdin)
                self.process.stdin.close()
            except OSError:  # it stopped reading
                pass

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        while chunk := self.process.stdout.read1(65536):
            if len(self.stdout) <= self.limits.output_bytes:
                self.stdout += chunk
            self._check_output()
        feeder.join(timeout=5)
        outcome = self.close()
        stdout = self.stdout[:self.limits.output_bytes].decode(errors="replace")
        return dataclasses.replace(outcome, stdout=stdout)

    def close(self) -> Outcome:
        """End the process and everything it started; what happened, as ``run`` says it."""
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        self._timer.cancel()
        self._reader.join(timeout=5)
        _remove_cgroup(self.group)
        stderr = self.stderr[:self.limits.output_bytes].decode(errors="replace")
        code = self.process.returncode
        limit = self.stopped or limit_hit(code, stderr, self.limits)
        return Outcome(None if self.stopped else code, "", stderr, limit,
                       time.monotonic() - self.started)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
