"""``make run``: nats-server from the bundled binary, provisioning, migrations, seed, five services, the console."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from pm_platform import natsauth
from pm_platform.auth import mint_token
from pm_platform.natsserver import NatsServer
from pm_platform.settings import load_settings

SERVICES = {"intake": 8101, "dispatch": 8102, "billing": 8103, "survey": 8104, "notification": 8105}
NATS_PORT = 4333  # beside, not on, a system NATS on 4222
# The console: its own database of staff accounts; it calls the services over HTTP and reads events from NATS
# (as the NATS user ``console``) only for its live pages.
CONSOLE_PORT = 8100


def secure_nats(var_dir: Path, deploy_dir: Path, contracts_dir: Path) -> tuple[Path, dict[str, str]]:
    """nats-server's config with every user and permission, and the passwords it refers to (kept in
    var/nats/credentials.env across runs); rendered afresh so it follows the catalog and topology."""
    users = natsauth.build_users(deploy_dir, contracts_dir)
    passwords = natsauth.generate_passwords(users, natsauth.credentials_file(var_dir))
    config = var_dir / "nats" / "nats-server.conf"
    config.write_text(natsauth.render_config(users), encoding="utf-8")
    return config, passwords


def login(env: dict[str, str], user: str, passwords: dict[str, str] | None) -> dict[str, str]:
    """``env`` with ``user``'s NATS login, when the server has authorization (``passwords`` given)."""
    return env if passwords is None else {**env, **natsauth.client_env(user, passwords)}


def prepare(
    env: dict[str, str], services: dict[str, int] = SERVICES, seed: bool = True, passwords: dict[str, str] | None = None
) -> None:
    """Provision JetStream, then migrate (and seed) every service's database, the services in parallel."""
    subprocess.run(
        [sys.executable, "-m", "pm_platform.cli", "provision"],
        check=True,
        env=login(env, natsauth.PROVISIONER, passwords),
    )
    for command in ("migrate", "seed") if seed else ("migrate",):
        jobs = {
            service: subprocess.Popen([sys.executable, "-m", service, command], env=login(env, service, passwords))
            for service in services
        }
        failed = [service for service, job in jobs.items() if job.wait() != 0]
        if failed:
            raise RuntimeError(f"{command} failed for: {', '.join(failed)}")


def console_env(env: dict[str, str], services: dict[str, int] = SERVICES) -> dict[str, str]:
    """``env`` with each service's base URL for the console (PM_CONSOLE_<SERVICE>_URL)."""
    return {
        **env,
        **{f"PM_CONSOLE_{service.upper()}_URL": f"http://127.0.0.1:{port}" for service, port in services.items()},
    }


def prepare_console(env: dict[str, str], seed: bool = True) -> None:
    """Migrate the console's database and seed the demo staff accounts."""
    for command in ("migrate", "seed") if seed else ("migrate",):
        subprocess.run([sys.executable, "-m", "console", command], check=True, env=env)


def start_services(
    env: dict[str, str],
    log_dir: Path,
    services: dict[str, int] = SERVICES,
    host: str = "127.0.0.1",
    passwords: dict[str, str] | None = None,
) -> dict[str, subprocess.Popen[bytes]]:
    log_dir.mkdir(parents=True, exist_ok=True)
    processes = {}
    for service, port in services.items():
        log = (log_dir / f"{service}.log").open("ab")
        processes[service] = subprocess.Popen(
            [sys.executable, "-m", service, "serve", "--host", host, "--port", str(port)],
            env=login(env, service, passwords),
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group: Ctrl-C reaches only the runner, which stops the services in order.
            start_new_session=True,
        )
    return processes


def wait_ready(services: dict[str, int] = SERVICES, timeout: float = 60.0) -> dict[str, bool]:
    deadline = time.monotonic() + timeout
    ready = dict.fromkeys(services, False)
    while time.monotonic() < deadline and not all(ready.values()):
        for service, port in services.items():
            if ready[service]:
                continue
            with contextlib.suppress(httpx.HTTPError):
                ready[service] = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
        time.sleep(0.3)
    return ready


def stop_all(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    for process in processes.values():
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_stack(seed: bool = True) -> None:
    # Ctrl-C and a process manager's SIGTERM both stop the stack in order, even where the shell started
    # us with SIGINT ignored (a background job).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    # The development stack: the services may use the well-known default JWT secret (unless one is set).
    os.environ.setdefault("PM_DEV_MODE", "1")
    settings = load_settings("devstack")
    var = settings.var_dir
    env = dict(os.environ)
    env.setdefault("PM_NATS_URL", f"nats://127.0.0.1:{NATS_PORT}")
    env["PM_VAR_DIR"] = str(var)
    started = time.monotonic()
    (var / "nats").mkdir(parents=True, exist_ok=True)
    config, passwords = secure_nats(var, settings.deploy_dir, settings.contracts_dir)
    nats = NatsServer(
        var / "nats", port=NATS_PORT, log_file=var / "logs" / "nats-server.log", config_file=config, env=passwords
    )
    (var / "logs").mkdir(parents=True, exist_ok=True)
    nats.start()
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        print(f"nats-server (JetStream) on {nats.url}, store {var / 'nats'}, users and permissions {config}")
        prepare(env, seed=seed, passwords=passwords)
        prepare_console(env, seed=seed)
        processes = start_services(env, var / "logs", passwords=passwords)
        processes.update(start_services(console_env(env), var / "logs", {"console": CONSOLE_PORT}, passwords=passwords))
        ready = wait_ready({**SERVICES, "console": CONSOLE_PORT})
        if not all(ready.values()):
            print(f"not ready: {', '.join(s for s, ok in ready.items() if not ok)}; see {var / 'logs'}")
            raise SystemExit(1)
        _print_banner(time.monotonic() - started)
        while all(p.poll() is None for p in processes.values()):
            time.sleep(0.5)
        print("a service stopped; see", var / "logs")
    except KeyboardInterrupt:
        print("\nstopping...")
    finally:
        stop_all(processes)
        nats.stop()
        print("stopped")


def _print_banner(seconds: float) -> None:
    settings = load_settings("devstack")
    agent = mint_token(settings, "agent.harbour", ["agent"], ["harbour"])
    worker = mint_token(settings, "eng.harbour", ["worker"], ["harbour"], department="engineering")
    operator = mint_token(settings, "ops", ["operator", "head_office"], ["*"])
    print(f"\nAll five services and the console are ready ({seconds:.1f}s):")
    for service, port in SERVICES.items():
        print(f"  {service:<13} http://127.0.0.1:{port}   docs: http://127.0.0.1:{port}/docs")
    print(f"  {'console':<13} http://127.0.0.1:{CONSOLE_PORT}   sign in as agent.harbour (demo accounts: README)")
    print("\nDevelopment tokens (12 h; mint more with `.venv/bin/pm token --help`):")
    print(f"  front-desk agent, site harbour:     {agent}")
    print(f"  engineering worker, site harbour:   {worker}")
    print(f"  operator / head office, all sites:  {operator}")
    print("\nNATS logins (passwords) are in var/nats/credentials.env; a department's live queue:")
    print("  .venv/bin/pm watch --site harbour --department engineering")
    print("\nMessages to owners land in var/notifications/sink.jsonl; spans in var/traces/. Ctrl-C stops everything.")
