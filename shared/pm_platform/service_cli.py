"""The command line every service has: ``python -m <service> serve | migrate | seed``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import typer
import uvicorn
import yaml

from pm_platform import migrations
from pm_platform.runtime import Runtime
from pm_platform.settings import Settings


def load_demo(settings: Settings) -> dict[str, Any]:
    """The demo property group in deploy/demo.yaml; each service seeds the part it owns."""
    document: dict[str, Any] = yaml.safe_load((settings.deploy_dir / "demo.yaml").read_text(encoding="utf-8"))
    return document


def make_cli(
    package: str,
    build_runtime: Callable[[], Runtime],
    app_factory: str,
    seed: Callable[[Runtime], Awaitable[None]] | None = None,
) -> typer.Typer:
    cli = typer.Typer(help=f"The {package} service.", no_args_is_help=True, pretty_exceptions_enable=False)

    @cli.command()
    def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
        """Run the HTTP API, the outbox relay and the consumers."""
        uvicorn.run(app_factory, factory=True, host=host, port=port, log_level="info", access_log=False)

    @cli.command()
    def migrate(revision: str = "head") -> None:
        """Apply the database migrations."""
        migrations.upgrade(package, build_runtime().settings, revision)

    @cli.command(name="seed")
    def seed_command() -> None:
        """Load the demo property group (idempotent)."""
        if seed is None:
            return

        async def run() -> None:
            runtime = build_runtime()
            try:
                await seed(runtime)
            finally:
                await runtime.engine.dispose()

        asyncio.run(run())

    return cli
