"""The `civic` command: serve, migrate, worker, demo data, users, wards and counting."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from civic import config, db
from civic.config import ConfigError
from civic.errors import DomainError, Invalid

# uvicorn imports the app by name; this tells that app to run the background loop inside it.
IN_PROCESS_WORKER = "_CIVIC_IN_PROCESS_WORKER"


class CommandError(Exception):
    """A mistake by whoever ran the command: printed as one line, exit status 1."""


def _settings() -> config.Settings:
    return config.use(config.load())


async def _with_db(work: Callable[[], Awaitable[Any]]) -> Any:
    settings = _settings()
    # Like `serve`, every command brings the schema up to date first, so a fresh install just works.
    await db.migrate(settings.database_url)
    await db.start(settings.database_url)
    try:
        return await work()
    finally:
        await db.stop()


def cmd_migrate(args: argparse.Namespace) -> None:
    settings = _settings()
    if args.check:
        changes = asyncio.run(db.unmigrated_changes(settings.database_url))
        if changes:
            raise CommandError("models changed without a migration (run tortoise makemigrations): " + ", ".join(changes))
        print("Every model change has a migration.")
        return
    asyncio.run(db.migrate(settings.database_url))
    print("Database is up to date.")


def cmd_demo(args: argparse.Namespace) -> None:
    from civic import demo

    summary = asyncio.run(_with_db(demo.seed))
    print(summary)


def cmd_serve(args: argparse.Namespace) -> None:
    from civic import ratelimit, serving

    shown_host = "127.0.0.1" if args.host in {"0.0.0.0", "::"} else args.host
    # Links in e-mails point at this server unless a public address is configured.
    os.environ.setdefault("CIVIC_BASE_URL", f"http://{shown_host}:{args.port}")
    settings = _settings()
    # Refused before the database is touched: nothing is migrated or seeded for a server that will not start.
    if args.workers > 1 and settings.sqlite:
        raise CommandError("Several app processes need PostgreSQL: set CIVIC_DATABASE_URL=postgres://...")
    if args.workers > 1 and ratelimit.kept_per_process(settings.rate_limit_storage):
        # Each process would count on its own: sign-in and concern limits N times looser with N processes.
        raise CommandError("Several app processes must share rate limits: set CIVIC_RATE_LIMIT_STORAGE=redis://host:6379/0")
    asyncio.run(db.migrate(settings.database_url))
    if args.demo:
        from civic import demo

        print(asyncio.run(_with_db(demo.seed)))
    if args.workers == 1 and not args.no_worker:
        os.environ[IN_PROCESS_WORKER] = "1"
    try:
        status = serving.run(
            "routes:app_factory",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            # Printed once the port is listening, so whoever reads the address can use it straight away.
            ready=lambda: print(f"civic is running at http://{shown_host}:{args.port}/  (press Ctrl+C to stop)", flush=True),
            # X-Forwarded-For is read by the app, from CIVIC_TRUSTED_PROXIES only (routes.middleware.ForwardedForMiddleware).
            proxy_headers=False,
            log_level=settings.log_level,
            server_header=False,
        )
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise CommandError(f"port {args.port} is already in use (is civic running already?): stop it, or choose another with --port") from error
        raise
    if status:
        raise SystemExit(status)


def cmd_worker(args: argparse.Namespace) -> None:
    from civic import worker

    settings = _settings()

    async def run() -> None:
        await db.start(settings.database_url)
        try:
            if args.once:
                print(await worker.run_once())
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await worker.run_forever(settings.worker_interval, stop)
        finally:
            await db.stop()

    asyncio.run(run())


def cmd_user_create(args: argparse.Namespace) -> None:
    from civic import accounts
    from civic.councils import get_council

    if bool(args.role) != bool(args.council):
        raise CommandError("--role and --council go together")

    async def work() -> str:
        user, created = await accounts.User.get_or_create(email=accounts.normalise_email(args.email))
        if args.name and not user.display_name:
            user.display_name = args.name
            await user.save(update_fields=["display_name"])
        message = f"{'Created' if created else 'Found'} user {user.email}"
        if args.role:
            council = await get_council(args.council)
            await accounts.assign_role(council, user.email, args.role)
            message += f", {args.role} of {council.name}"
        return message

    print(asyncio.run(_with_db(work)))


def cmd_user_grant(args: argparse.Namespace) -> None:
    from civic import accounts
    from civic.councils import get_council

    async def work() -> str:
        council = await get_council(args.council)
        await accounts.assign_role(council, args.email, args.role)
        return f"{args.email} is now {args.role} of {council.name}"

    print(asyncio.run(_with_db(work)))


def cmd_wards_import(args: argparse.Namespace) -> None:
    from civic.councils import get_council, import_wards

    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"No such file: {path}")

    async def work() -> str:
        council = await get_council(args.council)
        try:
            created, sectors = await import_wards(council, path.read_text("utf-8-sig"))
        except Invalid as error:
            raise CommandError(f"{path.name}: nothing imported. " + "; ".join(f"{k}: {v}" for k, v in error.errors.items())) from None
        return f"{sectors} postcode sectors imported for {council.name} ({created} new wards)"

    print(asyncio.run(_with_db(work)))


def cmd_council_create(args: argparse.Namespace) -> None:
    from civic import council_settings
    from civic.councils import Council
    from civic.errors import Invalid

    try:
        settings = council_settings.check({
            "name": args.name, "brand_colour": args.colour, "emergency_phone": "999",
            "duty_email": args.duty_email, "childrens_front_door_phone": args.front_door_phone,
        })
    except Invalid as error:
        raise CommandError("; ".join(f"{council_settings.FIELD_NAMES[k]}: {v}" for k, v in error.errors.items())) from None

    async def work() -> str:
        council, created = await Council.get_or_create(
            slug=args.slug,
            defaults={**{k: v for k, v in settings.items() if v}, "hostnames": args.hosts or ""},
        )
        return f"{'Created' if created else 'Already there:'} {council.name} ({council.slug})"

    print(asyncio.run(_with_db(work)))


def cmd_count(args: argparse.Namespace) -> None:
    from civic.counting import pabulib

    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"No such file: {path}")
    completion = None if args.completion == "none" else args.completion
    try:
        result = pabulib.count_file(path, args.method, completion)
    except ValueError as error:
        raise CommandError(f"{path.name}: {error}") from None
    print(pabulib.format_count(result, args.json))


def cmd_keys_new(args: argparse.Namespace) -> None:
    from civic import crypto

    print(crypto.new_key())


def cmd_keys_rotate(args: argparse.Namespace) -> None:
    from civic import crypto

    counts = asyncio.run(_with_db(crypto.rotate))
    rows = ", ".join(f"{count} {model}" for model, count in counts.items()) or "nothing"
    print(f"Re-encrypted with the first key in CIVIC_ENCRYPTION_KEYS: {rows}. The other keys can now be removed.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="civic", description="civic: resident participation for UK councils")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="apply migrations and serve the site")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="app processes (PostgreSQL only when more than 1)")
    serve.add_argument("--no-worker", action="store_true", help="do not run the background loop in this process")
    serve.add_argument("--demo", action="store_true", help="load the demo council first (safe to repeat)")
    serve.set_defaults(run=cmd_serve)

    migrate = commands.add_parser("migrate", help="apply pending database migrations")
    migrate.add_argument("--check", action="store_true", help="only check that every model change has a migration")
    migrate.set_defaults(run=cmd_migrate)

    work = commands.add_parser("worker", help="run the background loop (email, webhooks, reminders, purges)")
    work.add_argument("--once", action="store_true", help="run every job once and exit")
    work.set_defaults(run=cmd_worker)

    commands.add_parser("demo", help="load a fictional council with sample content (safe to repeat)").set_defaults(run=cmd_demo)

    user = commands.add_parser("user", help="create users and grant roles").add_subparsers(dest="action", required=True)
    create = user.add_parser("create", help="create a user, optionally with a role in a council")
    create.add_argument("--email", required=True)
    create.add_argument("--name", default="")
    create.add_argument("--role", choices=["officer", "key-worker", "admin"])
    create.add_argument("--council", help="council slug")
    create.set_defaults(run=cmd_user_create)
    grant = user.add_parser("grant", help="give an existing or new user a role in a council")
    grant.add_argument("--email", required=True)
    grant.add_argument("--role", required=True, choices=["officer", "key-worker", "admin"])
    grant.add_argument("--council", required=True, help="council slug")
    grant.set_defaults(run=cmd_user_grant)

    council = commands.add_parser("council", help="councils").add_subparsers(dest="action", required=True)
    council_create = council.add_parser("create", help="add a council to this deployment")
    council_create.add_argument("--slug", required=True)
    council_create.add_argument("--name", required=True)
    council_create.add_argument("--colour", default="#1d70b8")
    council_create.add_argument("--hosts", default="", help="comma-separated host names serving this council")
    council_create.add_argument("--duty-email", default="", help="the shared mailbox for concerns past their time and referrals not delivered (also at /admin/council)")
    council_create.add_argument("--front-door-phone", default="", help="children's services' front-door number, shown beside 999 (also at /admin/council)")
    council_create.set_defaults(run=cmd_council_create)

    wards = commands.add_parser("wards", help="wards and postcode sectors").add_subparsers(dest="action", required=True)
    wards_import = wards.add_parser("import", help="load a CSV of postcode sector,ward rows")
    wards_import.add_argument("file")
    wards_import.add_argument("--council", required=True, help="council slug")
    wards_import.set_defaults(run=cmd_wards_import)

    keys = commands.add_parser("keys", help="encryption keys for personal data at rest").add_subparsers(dest="action", required=True)
    keys.add_parser("new", help="print a new key to put first in CIVIC_ENCRYPTION_KEYS").set_defaults(run=cmd_keys_new)
    keys.add_parser("rotate", help="re-encrypt everything with the first key, so older keys can be removed").set_defaults(run=cmd_keys_rotate)

    count = commands.add_parser("count", help="count a Pabulib .pb file with civic's engine")
    count.add_argument("file")
    count.add_argument("--method", choices=["split", "equal_shares", "greedy"], default="equal_shares")
    count.add_argument("--completion", choices=["add1", "none"], default="add1")
    count.add_argument("--json", action="store_true", help="print JSON with `selected` and `seconds`")
    count.set_defaults(run=cmd_count)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Long-running commands log their work; one-shot commands print only their result or one error line.
    chatty = args.command in {"serve", "worker"}
    logging.basicConfig(level=logging.INFO if chatty else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("tortoise").setLevel(logging.WARNING)
    try:
        args.run(args)
    except (CommandError, ConfigError) as error:
        print(f"civic: {error}", file=sys.stderr)
        return 1
    except Invalid as error:
        print("civic: " + "; ".join(error.errors.values()), file=sys.stderr)
        return 1
    except DomainError as error:
        print(f"civic: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except OSError as error:
        print(f"civic: {error.strerror or error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
