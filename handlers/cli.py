"""`sharetrail` console script: serve, sandbox, demo, migrate, export, forget.

What it prints for people speaks LANGUAGE (the setting; before the settings load, e.g. for
`--help`, the LANGUAGE environment variable); logs stay English for whoever reads them."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import re
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, NoReturn

from aiohttp import web
from babel.lists import format_list

from bot import audit, i18n
from bot.demo import seed_demo
from bot.errors import DomainError
from bot.i18n import N_, _, ngettext
from bot.secret import load_or_create_secret
from bot.settings import Settings, SettingsError, load_settings
from store.db import Database
from store.migrate import upgrade

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bot import privacy

log = logging.getLogger("sharetrail")


def _configure_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in (
        "aiohttp.access",
        "slack_bolt",
        "slack_sdk",
        "sqlalchemy",
        "alembic",
        "apscheduler",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _stop_signal() -> asyncio.Event:
    """An event set by SIGINT/SIGTERM; installed before we announce that we listen."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def serve(settings: Settings) -> None:
    from handlers.main import create_app, start_runtime, stop_runtime

    stop = _stop_signal()
    runtime = await start_runtime(settings)
    app = create_app(settings, runtime=runtime)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    socket_handler = None
    if settings.socket_mode and runtime.bolt is not None:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        assert settings.slack_app_token is not None
        socket_handler = AsyncSocketModeHandler(
            runtime.bolt, settings.slack_app_token.get_secret_value()
        )
        await socket_handler.connect_async()  # type: ignore[no-untyped-call]
    # Everything loaded so far lives as long as the process: keep it out of the cyclic
    # garbage collector's full passes, which otherwise pause every request now and then.
    gc.collect()
    gc.freeze()
    # The tracking writer thread holds the GIL for stretches of Python work; hand it back
    # to the page loop after 1 ms instead of the interpreter's default 5 ms.
    sys.setswitchinterval(0.001)
    mode = "Socket Mode" if settings.socket_mode else "HTTP mode, Slack events at /slack/events"
    if not settings.slack:
        mode = "WeCom only"
    if settings.wecom:
        mode += ", WeCom callbacks at /wecom/callback"
    log.info("ShareTrail listening on http://%s:%s (%s)", settings.host, _bound_port(runner), mode)
    try:
        await stop.wait()
    finally:
        log.info("ShareTrail stopping")
        if socket_handler is not None:
            await socket_handler.close_async()  # type: ignore[no-untyped-call]
        await runner.cleanup()
        await stop_runtime(runtime)


def _bound_port(runner: web.AppRunner) -> int:
    """The real port (PORT=0 asks the OS for a free one)."""
    return int(runner.addresses[0][1]) if runner.addresses else 0


async def _with_db(settings: Settings, work: Callable[[Database], Awaitable[None]]) -> None:
    db = Database.from_url(settings.database_url)
    try:
        await upgrade(db.engine)
        await work(db)
    finally:
        await db.dispose()


async def _secret(settings: Settings, db: Database) -> str:
    configured = settings.sharetrail_secret
    return await load_or_create_secret(db, configured.get_secret_value() if configured else None)


async def demo(settings: Settings) -> None:
    async def work(db: Database) -> None:
        secret = await _secret(settings, db)
        for url in await seed_demo(db, secret=secret, base_url=settings.public_base_url):
            print(url)

    await _with_db(settings, work)


async def migrate(settings: Settings) -> None:
    async def work(db: Database) -> None:
        print(_("Database schema is up to date ({dialect}).").format(dialect=db.dialect))

    await _with_db(settings, work)


async def export(settings: Settings, activity_id: int) -> None:
    from bot import stats

    async def work(db: Database) -> None:
        async with db.session() as session:
            text = await stats.export_csv(session=session, activity_id=activity_id)
            await audit.record(
                session,
                actor=audit.CLI,
                action=audit.EXPORT_CSV,
                subject=audit.subject("activity", activity_id),
                details={"rows": max(0, text.count("\n") - 1)},
            )
        sys.stdout.write(text)

    await _with_db(settings, work)


async def forget(settings: Settings, phone: str) -> None:
    """Erase a customer everywhere (bot/privacy.py); prints the counts, never the person."""
    from bot import privacy

    async def work(db: Database) -> None:
        secret = await _secret(settings, db)

        async def erase(session: AsyncSession) -> privacy.Erasure:
            return await privacy.erase_customer(
                session, phone=phone, actor=audit.CLI, secret=secret
            )

        erasure = await db.transaction(erase)
        if not erasure.leads:
            print(
                _(
                    "No customer with that phone number; nothing changed (recorded in the "
                    "audit log)."
                )
            )
            return
        print(erasure_summary(erasure))
        queued = erasure.chat_messages_erased + erasure.chat_files_deleted
        if queued:
            print(
                ngettext(
                    "%(num)d chat message or file is queued to be erased; the running server "
                    "sends it, retrying while the chat platform is down.",
                    "%(num)d chat messages and files are queued to be erased; the running "
                    "server sends them, retrying while the chat platform is down.",
                    queued,
                )
                % {"num": queued}
            )

    await _with_db(settings, work)


def erasure_summary(erasure: privacy.Erasure) -> str:
    """'Erased 1 lead: 2 views unlinked, 1 contact record deleted, …' in the current language."""
    notes = erasure.check_in_notes_cleared + erasure.notes_cleared
    parts = [
        ngettext("%(num)d view unlinked", "%(num)d views unlinked", erasure.views_unlinked)
        % {"num": erasure.views_unlinked},
        ngettext(
            "%(num)d contact record deleted",
            "%(num)d contact records deleted",
            erasure.contacts_deleted,
        )
        % {"num": erasure.contacts_deleted},
        ngettext("%(num)d note cleared", "%(num)d notes cleared", notes) % {"num": notes},
        ngettext("%(num)d message scrubbed", "%(num)d messages scrubbed", erasure.messages_scrubbed)
        % {"num": erasure.messages_scrubbed},
    ]
    return ngettext(
        "Erased %(num)d lead: %(details)s. Recorded in the audit log.",
        "Erased %(num)d leads: %(details)s. Recorded in the audit log.",
        erasure.leads,
    ) % {"num": erasure.leads, "details": format_list(parts, locale=i18n.current_locale())}


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's layout with our translated "usage:" (argparse's own catalogue has no zh)."""

    def add_usage(
        self, usage: str | None, actions: Any, groups: Any, prefix: str | None = None
    ) -> None:
        super().add_usage(usage, actions, groups, _("usage: ") if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose own words (section titles, -h, "error:") are ours, translated."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.update(add_help=False, formatter_class=_HelpFormatter)
        super().__init__(*args, **kwargs)
        self._positionals.title = _("positional arguments")
        self._optionals.title = _("options")
        self.add_argument("-h", "--help", action="help", help=_("show this help message and exit"))

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        for pattern, text in _ARGPARSE_ERRORS:
            found = pattern.fullmatch(message)
            if found:
                message = _(text).format(**found.groupdict())
                break
        self.exit(2, _("{prog}: error: {message}").format(prog=self.prog, message=message) + "\n")


# argparse's usual complaints (its catalogue has no zh), as argparse words them in English.
_ARGPARSE_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"the following arguments are required: (?P<names>.+)"),
        N_("the following arguments are required: {names}"),
    ),
    (re.compile(r"unrecognized arguments: (?P<names>.+)"), N_("unrecognized arguments: {names}")),
    (
        re.compile(r"argument (?P<name>\S+): invalid (?P<kind>\w+) value: (?P<value>.+)"),
        N_("argument {name}: invalid {kind} value: {value}"),
    ),
    (
        re.compile(
            r"argument (?P<name>\S+): invalid choice: (?P<value>.+?) "
            r"\(choose from (?P<choices>.+)\)"
        ),
        N_("argument {name}: invalid choice: {value} (choose from {choices})"),
    ),
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sharetrail", description=_("ShareTrail, the employee-advocacy bot."))
    parser.add_argument("-v", "--verbose", action="store_true", help=_("debug logging"))
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("serve", help=_("run the server (landing pages + Slack)"))
    sandbox = commands.add_parser("sandbox", help=_("run everything locally with a fake Slack"))
    sandbox.add_argument("--port", type=int, default=None, help=_("app port (default 8080)"))
    sandbox.add_argument(
        "--ui-port", type=int, default=None, help=_("sandbox UI port (default 3000)")
    )
    sandbox.add_argument(
        "--host",
        default="127.0.0.1",
        help=_("address to listen on (0.0.0.0: phones on the LAN; links use the LAN address)"),
    )
    sandbox.add_argument(
        "--platform",
        choices=("slack", "wecom"),
        default="slack",
        help=_("which chat platform the stand-in plays (default slack)"),
    )
    commands.add_parser("demo", help=_("seed demo data and print one share URL per line"))
    commands.add_parser("migrate", help=_("apply database migrations"))
    export_parser = commands.add_parser("export", help=_("print an activity's CSV to stdout"))
    export_parser.add_argument("activity_id", type=int)
    forget_parser = commands.add_parser(
        "forget", help=_("erase a customer everywhere (leads anonymised, counts kept)")
    )
    forget_parser.add_argument(
        "--phone",
        required=True,
        help=_("the customer's phone, any format"),
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    # The settings are not loaded yet (a bad one must still get --help): the environment's
    # LANGUAGE, when it names en or zh, until they are.
    i18n.set_locale(os.environ.get("LANGUAGE"))
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    try:
        if args.command == "sandbox":
            from handlers.sandbox_runner import run_sandbox

            return asyncio.run(
                run_sandbox(
                    app_port=args.port,
                    ui_port=args.ui_port,
                    host=args.host,
                    platform=args.platform,
                )
            )
        settings = load_settings()
        i18n.set_locale(settings.language)
        if args.command == "serve":
            if not settings.slack and not settings.wecom:
                print(
                    _(
                        "SLACK_BOT_TOKEN is not set (nor the WECOM_* settings), so there is no "
                        "Slack workspace or WeCom company to talk to.\n"
                        "Set it (and SLACK_SIGNING_SECRET) in .env, or try everything locally "
                        "with:\n    sharetrail sandbox"
                    ),
                    file=sys.stderr,
                )
                return 2
            if (
                settings.slack
                and not settings.socket_mode
                and settings.slack_signing_secret is None
            ):
                print(
                    _(
                        "SLACK_SIGNING_SECRET is not set: HTTP mode cannot verify Slack's "
                        "requests.\nCopy it from your app's Basic Information page, or set "
                        "SLACK_APP_TOKEN for Socket Mode."
                    ),
                    file=sys.stderr,
                )
                return 2
            asyncio.run(serve(settings))
        elif args.command == "demo":
            asyncio.run(demo(settings))
        elif args.command == "migrate":
            asyncio.run(migrate(settings))
        elif args.command == "export":
            asyncio.run(export(settings, args.activity_id))
        elif args.command == "forget":
            asyncio.run(forget(settings, args.phone))
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except DomainError as exc:
        print(_("error: {message}").format(message=exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
