"""``python -m console serve | migrate | seed``, like the other services (NATS only for live pages)."""

from __future__ import annotations

import asyncio

import typer
import uvicorn

from console.seed import seed
from pm_platform import migrations
from pm_platform.db import create_engine, sessionmaker
from pm_platform.settings import load_settings

cli = typer.Typer(help="The console service.", no_args_is_help=True, pretty_exceptions_enable=False)


@cli.command()
def serve(host: str = "127.0.0.1", port: int = 8100) -> None:
    """Serve the console's pages."""
    uvicorn.run("console.main:create", factory=True, host=host, port=port, log_level="info", access_log=False)


@cli.command()
def migrate(revision: str = "head") -> None:
    """Apply the database migrations (staff accounts and sessions)."""
    migrations.upgrade("console", load_settings("console"), revision)


@cli.command(name="seed")
def seed_command() -> None:
    """Create the demo staff accounts (idempotent)."""

    async def run() -> None:
        engine = create_engine(load_settings("console").resolved_database_url())
        try:
            async with sessionmaker(engine)() as session, session.begin():
                await seed(session)
        finally:
            await engine.dispose()

    asyncio.run(run())


if __name__ == "__main__":
    cli()
