"""``python -m tests.bench.profile``: where the services spend their CPU under the front door's load.

Starts the stack as the load bench does, sends POST /requests at a fixed rate and records each service with
py-spy (``--gil``: only the thread holding the GIL, so idle threads and the database's waits do not count) into
``var/bench/profile-<backend>-<service>.txt`` (collapsed stacks: flamegraph.pl or speedscope read them), then
prints the load's figures and, per service, the functions with the largest share of its samples.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from pm_platform.devstack import SERVICES
from pm_platform.settings import REPO_ROOT
from tests.bench.common import DEFAULT_POSTGRES_URL, Postgres
from tests.bench.load import LoadStack, open_loop

# The process's own scaffolding (every sample of the server's thread passes through it): not worth a line.
SCAFFOLDING = re.compile(
    r"\((<frozen runpy>|typer/|click/|uvicorn/main|uvicorn/server|uvicorn/_compat|asyncio/runners|\w+/__main__)"
)


def top_functions(path: Path, count: int) -> list[tuple[float, str]]:
    """The functions with the largest inclusive share of the samples in a collapsed-stack file."""
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _, samples = line.rpartition(" ")
        total += int(samples)
        for frame in {re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")}:
            if not SCAFFOLDING.search(frame):
                inclusive[frame] += int(samples)
    return [(100 * n / total, frame) for frame, n in inclusive.most_common(count)] if total else []


async def profile(backend: str, rate: float, seconds: float, out: Path, postgres_url: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="pm-profile-"))
    postgres = Postgres(postgres_url)
    database_url = await postgres.service_databases("profile", SERVICES) if backend == "postgres" else None
    stack = LoadStack(work, database_url)
    try:
        await asyncio.to_thread(stack.start)
        await open_loop(stack, 5, 2)  # warm up
        spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
        recorders = {}
        for service, process in stack.processes.items():
            output = out / f"profile-{backend}-{service}.txt"
            recorders[service] = await asyncio.create_subprocess_exec(
                *[spy, "record", "--gil", "-r", "200", "-d", str(int(seconds) + 2), "-f", "raw"],
                *["-p", str(process.pid), "-o", str(output)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        result = await open_loop(stack, rate, seconds)
        for recorder in recorders.values():
            await recorder.wait()
        print(result.summary())
        for service in recorders:
            path = out / f"profile-{backend}-{service}.txt"
            if path.exists():
                print(f"\n{service} ({path}):")
                for share, frame in top_functions(path, 25):
                    print(f"  {share:5.1f}%  {frame}")
    finally:
        await asyncio.to_thread(stack.stop)
        await postgres.drop_all()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.profile", description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rate", type=float, default=20, help="POST /requests per second (default 20)")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    args = parser.parse_args()
    out = REPO_ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    asyncio.run(profile(args.backend, args.rate, args.seconds, out, args.postgres_url))


if __name__ == "__main__":
    main()
