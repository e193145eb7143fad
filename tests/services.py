"""Real servers for the tests, started on loopback: S3Proxy and PostgreSQL.

Each starter returns a handle with what a client needs and a ``stop()``; the session-scoped
fixtures in ``conftest.py`` start each once per test run. Nothing here talks to anything but
127.0.0.1.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from lakehouse.settings import DEFAULT_CACHE_DIR


def free_port() -> int:
    """A TCP port that is free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int, proc: subprocess.Popen[bytes] | None, timeout: float, log: Path
) -> None:
    """Block until something listens on the port, or fail with the server's log tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{_tail(log)}")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listened on port {port} after {timeout}s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class S3ProxyServer:
    """A running S3Proxy with a filesystem backend in a temporary directory."""

    endpoint: str
    access_key: str
    secret_key: str
    basedir: Path
    proc: subprocess.Popen[bytes] = field(repr=False)

    def client(self):
        """The project's own S3 client (checksums only when required), pointed at this server."""
        from lakehouse.settings import load_settings
        from lakehouse.storage import s3_client

        return s3_client(
            load_settings(
                {
                    "LAKEHOUSE_S3_ENDPOINT": self.endpoint,
                    "LAKEHOUSE_S3_ACCESS_KEY": self.access_key,
                    "LAKEHOUSE_S3_SECRET_KEY": self.secret_key,
                }
            )
        )

    def stop(self) -> None:
        """Stop the server process."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def s3proxy_jar(cache_dir: Path = DEFAULT_CACHE_DIR) -> Path | None:
    """The S3Proxy jar resolved by ``scripts/bootstrap.sh --test``, if present."""
    found = sorted((cache_dir / "jars" / "s3proxy").glob("s3proxy-*-jar-with-dependencies.jar"))
    return found[-1] if found else None


def start_s3proxy(workdir: Path, cache_dir: Path = DEFAULT_CACHE_DIR) -> S3ProxyServer:
    """Start S3Proxy on a free loopback port with the filesystem-nio2 backend under workdir."""
    jar = s3proxy_jar(cache_dir)
    if jar is None:
        raise RuntimeError("S3Proxy jar not found: run scripts/bootstrap.sh --test")
    port = free_port()
    basedir = workdir / "s3data"
    basedir.mkdir(parents=True, exist_ok=True)
    props = workdir / "s3proxy.properties"
    # A fresh secret per server: a test can then search every process for it and know that
    # a hit is a leak of this run (tests/integration/test_no_secrets.py).
    secret_key = f"lakehouse-test-{secrets.token_hex(12)}"
    props.touch(mode=0o600)
    props.write_text(
        "\n".join(
            [
                f"s3proxy.endpoint=http://127.0.0.1:{port}",
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=lakehouse-test",
                f"s3proxy.credential={secret_key}",
                "s3proxy.ignore-unknown-headers=true",
                "jclouds.provider=filesystem-nio2",
                f"jclouds.filesystem.basedir={basedir}",
                "",
            ]
        )
    )
    log = workdir / "s3proxy.log"
    java = shutil.which("java") or "java"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [java, "-Xmx512m", "-jar", str(jar), "--properties", str(props)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    wait_for_port(port, proc, 60, log)
    return S3ProxyServer(
        endpoint=f"http://127.0.0.1:{port}",
        access_key="lakehouse-test",
        secret_key=secret_key,
        basedir=basedir,
        proc=proc,
    )


@dataclass
class PostgresServer:
    """A throw-away PostgreSQL cluster owned by the test run."""

    port: int
    datadir: Path
    bindir: Path
    user: str
    proc_owner: str = "postgres"

    @property
    def dsn(self) -> str:
        """libpq connection string for the ``lakehouse`` database."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/lakehouse"

    @property
    def jdbc_url(self) -> str:
        """JDBC URL for Spark's PostgreSQL driver."""
        return f"jdbc:postgresql://127.0.0.1:{self.port}/lakehouse?user={self.user}"

    def stop(self) -> None:
        """Stop the cluster (fast shutdown)."""
        _as_owner(
            self.proc_owner,
            [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop"],
        )


def postgres_bindir() -> Path | None:
    """Newest PostgreSQL server binaries from the Debian package, if installed."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


def _as_owner(owner: str, cmd: list[str]) -> subprocess.CompletedProcess[str]:
    # initdb and postgres refuse to run as root: run them as the Debian 'postgres' user.
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", owner, "--", *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr or done.stdout}"
        )
    return done


def start_postgres(workdir: Path) -> PostgresServer:
    """initdb a cluster in workdir and start it on a free loopback port (trust auth, local only)."""
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server not installed: run scripts/bootstrap.sh --test")
    datadir = workdir / "pgdata"
    workdir.mkdir(parents=True, exist_ok=True)
    owner = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    if os.geteuid() == 0:
        shutil.chown(workdir, user=owner)
    port = free_port()
    _as_owner(
        owner,
        [
            str(bindir / "initdb"),
            "-D",
            str(datadir),
            "-U",
            "lakehouse",
            "-A",
            "trust",
            "-E",
            "UTF8",
        ],
    )
    log = workdir / "postgres.log"
    _as_owner(
        owner,
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(datadir),
            "-l",
            str(log),
            "-w",
            "-o",
            f"-p {port} -h 127.0.0.1 -k {workdir}",
            "start",
        ],
    )
    _as_owner(
        owner,
        [
            str(bindir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "lakehouse",
            "lakehouse",
        ],
    )
    return PostgresServer(
        port=port, datadir=datadir, bindir=bindir, user="lakehouse", proc_owner=owner
    )
