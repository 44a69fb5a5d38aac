"""`lingcode` with no subcommand: open the interactive session in the current repository."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import click

from lingcode.commands.common import load, resolve_root
from lingcode.config import Config
from lingcode.errors import UsageError
from lingcode.events import EventSink
from lingcode.ui.backend import Backend, Progress, SessionFactory


def open_session(ctx: click.Context, root: str | None, resume: bool) -> None:
    """Load the config, then run the interactive app; the model opens inside it, with progress notices."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("the interactive session needs a terminal; for scripts use `lingcode run TASK`")
    root_path = resolve_root(Path(root) if root else None)
    config = load(ctx, root_path)
    from lingcode.ui.app import create_app  # Textual loads only for the interactive session

    closers: list[Callable[[], None]] = []
    app = create_app(session_factory(config, root_path, resume, closers), config=config, root=root_path)
    try:
        app.run()
    finally:
        for close in closers:
            close()


def session_factory(
    config: Config, root: Path, resume: bool, closers: list[Callable[[], None]]
) -> SessionFactory:
    """A factory that opens the model (starting the embedded server if needed) and the Session.

    The model client's `close` goes into `closers`, for after the app has ended.
    """

    def factory(sink: EventSink, progress: Progress) -> Backend:
        from lingcode.loop.session import Session
        from lingcode.model.embedded import open_model

        progress("Connecting to the model…" if config.model.base_url else "Starting the embedded model…")
        client = open_model(config, progress=progress)
        closers.append(client.close)
        info = client.info()
        if resume:
            session = Session.resume(config, root, client, sink)
        else:
            session = Session(config, root, client, sink)
        grammar = "constrained decoding" if info.supports_grammar else "no grammar support"
        backend = Backend(
            session=session,
            model=info.model,
            server=urlsplit(client.base_url).netloc or client.base_url,
            about=f"{info.engine} at {client.base_url}, {info.context_window:,}-token context, {grammar}.",
            resumed=resume,
        )
        progress(f"Ready: {info.model} ({info.engine}).")
        return backend

    return factory
