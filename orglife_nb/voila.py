"""Start Voila on one of the package's notebooks: the forms app (``orglife serve``), the training notebook
(``orglife training``) and the browser tests all go through here.

The store URL reaches the kernels through the ``ORGLIFE_DB`` environment variable (kernels inherit Voila's
environment), so the notebooks stay parameter-free for Voila. With ``preheat`` Voila keeps a pool of kernels
that have already run the notebook, so the first page is interactive at once.
"""
from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .errors import OrglifeError
from .resources import notebook as notebook_path
from .serving import ServeSettings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


CULL_IDLE = 600  # seconds a kernel whose page is gone may sit idle before Voila shuts it down


def voila_command(notebook: Path, port: int, *, login: ServeSettings | None = None, **options) -> list[str]:
    module = "orglife_nb.auth.server" if login else "voila"
    return [sys.executable, "-m", module] + voila_arguments(notebook, port, login=login, **options)


def voila_arguments(notebook: Path, port: int, *, preheat: bool = True, pool_size: int = 1,
                    ip: str = "127.0.0.1", cull_idle: float = CULL_IDLE, login: ServeSettings | None = None) -> list[str]:
    """Voila's command line after the program (the JupyterHub single-user server runs the same one)."""
    command = [str(notebook), "--no-browser", f"--port={port}", f"--Voila.ip={ip}",
               "--show_tracebacks=False", "--theme=light"] + (login.arguments() if login else [])
    if preheat:
        # a preheated kernel has already executed the notebook; the pool refills itself after each visitor
        command += ["--preheat_kernel=True", f"--pool_size={pool_size}"]
    if cull_idle > 0:
        # jupyter_server's culler: a kernel with no page attached (closed tab) and idle this long is shut down;
        # a page left open keeps its kernel (cull_connected stays off) and Voila spares its pool, but only once a
        # pooled kernel has finished running the notebook: the limit must exceed that (whole minutes from the CLI)
        command += [f"--MappingKernelManager.cull_idle_timeout={int(cull_idle)}",
                    f"--MappingKernelManager.cull_interval={max(1, min(60, int(cull_idle) // 2))}"]
    return command


@dataclass
class VoilaServer:
    process: subprocess.Popen
    url: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(notebook: str | Path, *, db: str | None = None, port: int | None = None, preheat: bool = True,
          pool_size: int = 1, env: dict[str, str] | None = None, ready_timeout: float = 60,
          log: Path | None = None, cull_idle: float = CULL_IDLE, login: ServeSettings | None = None,
          ip: str = "127.0.0.1") -> VoilaServer:
    """Start Voila in the background and return once it answers HTTP (raises OrglifeError otherwise).

    ``notebook`` is a path or the name of a notebook in ``notebooks/``.
    """
    path = Path(notebook)
    if not path.is_file():
        path = notebook_path(str(notebook))
    if not path.is_file():
        raise OrglifeError(f"找不到笔记本 {notebook}")
    port = port or free_port()
    child_env = {**os.environ, **(env or {})}
    if db:
        child_env["ORGLIFE_DB"] = db
    if login:
        import secrets

        from .auth.identity import KEY_ENV

        child_env[KEY_ENV] = secrets.token_hex(32)  # signs the identity the server hands its kernels
    output = open(log, "ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(voila_command(path, port, preheat=preheat, pool_size=pool_size, cull_idle=cull_idle,
                                             login=login, ip=ip),
                               cwd=path.parent, env=child_env, stdout=output, stderr=subprocess.STDOUT)
    scheme = "https" if login and login.https else "http"
    host = "127.0.0.1" if ip in ("", "0.0.0.0", "::") else (f"[{ip}]" if ":" in ip else ip)
    server = VoilaServer(process, f"{scheme}://{host}:{port}/")
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise OrglifeError(f"Voila 启动失败（退出码 {process.returncode}）" + (f"，日志见 {log}" if log else ""))
        try:
            # any HTTP answer means the server listens; the page itself would take a preheated kernel
            # our own server on loopback: its certificate (often self-signed) is not what is being checked here
            context = ssl._create_unverified_context() if scheme == "https" else None
            with urllib.request.urlopen(server.url + "api/status", timeout=2, context=context):
                return server
        except urllib.error.HTTPError:
            return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise OrglifeError(f"Voila 在 {ready_timeout:.0f} 秒内没有启动")


@contextmanager
def running(notebook: str | Path, **options) -> Iterator[VoilaServer]:
    server = start(notebook, **options)
    try:
        yield server
    finally:
        server.stop()


def _report_preheat(server: VoilaServer, log: Path, offset: int, pool: int, began: float, echo) -> None:
    """Print 预热内核 k/N as the pool's kernels finish the notebook (their marker lines in the log)."""
    from .forms.failure import MARKER, PREHEATED

    marker, ready, deadline = f"[{MARKER}] {PREHEATED}".encode(), 0, time.monotonic() + PREHEAT_WAIT
    while ready < pool and time.monotonic() < deadline and server.process.poll() is None:
        time.sleep(0.3)
        with log.open("rb") as stream:
            stream.seek(offset)
            seen = min(pool, stream.read().count(marker))
        for ready in range(ready + 1, seen + 1):  # each kernel counted, even two ready at once
            echo(f"预热内核 {ready}/{pool}……" if ready < pool else
                 f"预热内核 {pool}/{pool}，可以使用了（共用时 {time.monotonic() - began:.0f} 秒）")
    if ready < pool and server.process.poll() is None:
        echo(f"内核仍在预热（{ready}/{pool}），页面可能要多等一会儿；详情见服务器日志 {log}")


PREHEAT_WAIT = 180  # seconds ``orglife serve`` reports the pool's progress before it stops waiting for it


def default_log() -> Path:
    """Where a server started from the command line writes its log when not told: the user's state folder, not
    the working directory (``$XDG_STATE_HOME/orglife/serve.log``)."""
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return state / "orglife" / "serve.log"


def serve_forever(notebook: str | Path, *, echo=print, count_preheated: bool = False, **options) -> None:
    """``orglife serve`` / ``orglife training``: start, print the URL, run until Ctrl-C or a plain ``kill``.

    Says what it is doing while it starts (a server that prints nothing for half a minute looks broken): the log's
    place, the URL and how long the start took, then (``count_preheated``: the forms) each kernel of the pool as it
    has run the notebook, read back from the markers the kernels write to the log."""
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # unwinds through ``finally``: Voila stops with us
    log = Path(options.pop("log", None) or default_log())
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        offset = log.stat().st_size if log.exists() else 0
        log.open("ab").close()
    except OSError as error:
        raise OrglifeError(f"无法写入服务器日志 {log}：{error.strerror or error}") from None
    began = time.monotonic()
    pool = options.get("pool_size", 1) if options.get("preheat", True) else 0
    echo(f"正在启动（Voila{f'，预热 {pool} 个内核' if count_preheated and pool else ''}）……服务器日志：{log}")
    server = start(notebook, log=log, **options)
    echo(f"已启动：{server.url}  （用时 {time.monotonic() - began:.0f} 秒；按 Ctrl-C 停止）")
    try:
        if count_preheated and pool:
            _report_preheat(server, log, offset, pool, began, echo)
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
