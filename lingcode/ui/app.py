"""The interactive session's screen: conversation, prompt, context and checks panels, status bar.

The app only renders the loop's events and calls the Session API; every Session call runs in a worker thread
(`run_job`) and its result comes back as a message, so the screen never freezes.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.widgets import Footer, Input

from lingcode.config import Config
from lingcode.errors import LingcodeError
from lingcode.ui import events_view
from lingcode.ui.backend import Backend, SessionFactory
from lingcode.ui.commands import parse_command
from lingcode.ui.history import InputHistory, history_path
from lingcode.ui.messages import Job, JobDone, JobFailed, LoopEvent, Progress
from lingcode.ui.metrics import Metrics
from lingcode.ui.notices import describe
from lingcode.ui.session_commands import SessionCommands
from lingcode.ui.widgets.checks_panel import ChecksPanel
from lingcode.ui.widgets.context_panel import ContextPanel
from lingcode.ui.widgets.conversation import Conversation
from lingcode.ui.widgets.edit_review import EditReview
from lingcode.ui.widgets.prompt_input import PromptInput
from lingcode.ui.widgets.status_bar import StatusBar

BACKGROUND_JOBS = frozenset({"context", "saving"})
"""Jobs that a user's request simply queues behind instead of being refused."""
NARROW_BELOW = 100
"""Terminals narrower than this hide the side panels until F2 shows them."""
RECONNECT_HINT = (
    "Start a server with `lingcode serve` or check model.base_url (`lingcode doctor`), then press Ctrl+R."
)
QUIT_WINDOW_S = 2.0
"""Seconds within which a second Ctrl+C quits."""


class LingcodeApp(App[None]):
    """An interactive lingcode session in one repository."""

    CSS_PATH = "app.tcss"
    TITLE = "lingcode"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop", "Stop", priority=True),
        Binding("ctrl+c", "quit_twice", "Quit", priority=True),
        Binding("f2", "toggle_panels", "Panels"),
        Binding("ctrl+r", "reconnect", "Reconnect", show=False),
        Binding("ctrl+l", "focus_prompt", "Prompt", show=False),
    ]

    def __init__(
        self,
        session_factory: SessionFactory,
        *,
        config: Config,
        root: Path,
        clock: Callable[[], float] = time.monotonic,
        show_timings: bool = True,
        history: InputHistory | None = None,
        blink: bool = True,
    ) -> None:
        super().__init__()
        self.blink = blink
        self.session_factory = session_factory
        self.config = config
        self.root = root
        self.clock = clock
        self.started_at = clock()
        self.metrics = Metrics(show_timings=show_timings)
        self.history = history if history is not None else InputHistory(history_path(root))
        self.backend: Backend | None = None
        self.busy = ""
        """What the worker is doing ("" when idle): "thinking", "testing", ..."""
        self.cancel: threading.Event | None = None
        self.iteration = 0
        """Check runs since the last task the user sent."""
        self.stopped = False
        """Whether the user stopped the job whose result is being handled."""
        self.rejections: list[str] = []
        """EditsRejected messages shown since the last task (so a proposal's error is not shown twice)."""
        self.waiting_input: list[str] = []
        """Inputs typed while the model was still opening; sent when it is ready."""
        self.show_applied_diffs = True
        """Whether applied edits show their diff (not when the user just reviewed that diff)."""
        self._queue: deque[Job] = deque()
        self.commands = SessionCommands(self)
        self._ctrl_c_at: float | None = None
        self._panels_forced: bool | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Conversation(id="conversation")
                yield PromptInput(self.history, id="prompt", blink=self.blink)
            with Vertical(id="sidebar"):
                yield ContextPanel(self.config.context.budget, id="context")
                yield ChecksPanel(show_timings=self.metrics.show_timings, id="checks")
        yield StatusBar(id="status")
        yield Footer()

    async def on_mount(self) -> None:
        self.query_one(PromptInput).focus()
        self.set_interval(1.0, self.refresh_status)
        self.refresh_status()
        await self.conversation.add_markdown(
            f"**lingcode** in `{self.root.name}`: ask for a change (e.g. *fix the failing test*), "
            "or type `/help`.",
            classes="welcome",
        )
        self.open_backend()

    def on_unmount(self) -> None:
        # a generation or test run still going must not keep the process alive after the screen is gone
        if self.cancel is not None:
            self.cancel.set()

    # ---- the parts of the screen

    def live(self) -> bool:
        """Whether the screen is up (messages can still arrive from workers while the app shuts down)."""
        try:
            return bool(self.screen.query(Conversation))
        except Exception:
            return False

    @property
    def conversation(self) -> Conversation:
        """The conversation log."""
        return self.query_one(Conversation)

    @property
    def context_panel(self) -> ContextPanel:
        """The context panel."""
        return self.query_one(ContextPanel)

    @property
    def checks_panel(self) -> ChecksPanel:
        """The checks panel."""
        return self.query_one(ChecksPanel)

    def refresh_status(self) -> None:
        """Redraw the status bar (not during shutdown, when the screen may already be gone)."""
        for bar in self.query(StatusBar):
            bar.show(self.metrics, self.clock() - self.started_at, self.busy)

    async def notice(self, message: str, level: str = "info", hint: str = "") -> None:
        """Show a notice in the conversation."""
        await self.conversation.add_notice(message, level, hint)

    # ---- workers

    def user_busy(self) -> str:
        """What keeps a new user request waiting: a running or queued job other than background upkeep."""
        labels = [self.busy, *(job.label for job in self._queue)]
        return next((label for label in labels if label and label not in BACKGROUND_JOBS), "")

    def run_job(
        self,
        label: str,
        call: Callable[[], Any],
        then: Callable[[Any], Awaitable[None]] | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        """Run a blocking Session call in a worker thread; its result or error comes back as a message.

        Jobs run one at a time (the Session is not for concurrent use): a job asked for meanwhile waits.
        `cancel` is the event Esc sets while this job runs.
        """
        job = Job(label, call, then, cancel)
        if self.busy:
            self._queue.append(job)
            return
        self.busy, self.cancel = label, cancel
        self.refresh_status()

        def body() -> None:
            try:
                result = call()
            except BaseException as exc:  # every failure becomes a notice, never a traceback on screen
                self.post_message(JobFailed(label, exc))
            else:
                self.post_message(JobDone(label, result, then))

        self.run_worker(body, thread=True, name=label, group="session", exit_on_error=False)

    def sink(self, event: Any) -> None:
        """The Session's EventSink: called in the worker thread, hands the event to the screen."""
        self.post_message(LoopEvent(event))

    def open_backend(self) -> None:
        """Open the model and the Session in a worker."""

        def progress(text: str) -> None:
            self.post_message(Progress(text))

        self.run_job("connecting", lambda: self.session_factory(self.sink, progress), self._on_backend)

    async def _on_backend(self, backend: Backend) -> None:
        self.backend = backend
        self.metrics.model, self.metrics.server = backend.model, backend.server
        if backend.resumed:
            await self.commands.show_history(backend.session.history)
        self.commands.refresh_context()
        self.run_worker(self._offer_paths, thread=True, name="paths", exit_on_error=False)
        waiting, self.waiting_input = self.waiting_input, []
        for text in waiting:
            await self.dispatch(text)

    def _offer_paths(self) -> None:
        """List the repository's files (in a worker) for completion after /add and /drop."""
        from lingcode.context.files import list_files

        # completion is a convenience: the commands work without it, so any failure here is let go
        with contextlib.suppress(Exception):
            paths = tuple(list_files(self.root).paths)
            self.call_from_thread(self._set_paths, paths)

    def _set_paths(self, paths: tuple[str, ...]) -> None:
        for prompt in self.query(PromptInput):
            prompt.set_paths(paths)

    @on(JobDone)
    async def _job_done(self, message: JobDone) -> None:
        if not self.live():
            return  # a message that arrived while the app shuts down
        self.busy = ""
        self.stopped = self.cancel is not None and self.cancel.is_set()
        self.cancel = None
        if message.then is not None:
            await message.then(message.result)
        self._next_job()

    def _next_job(self) -> None:
        if not self.busy and self._queue:
            job = self._queue.popleft()
            self.run_job(job.label, job.call, job.then, job.cancel)
        self.refresh_status()

    @on(JobFailed)
    async def _job_failed(self, message: JobFailed) -> None:
        if not self.live():
            return  # a message that arrived while the app shuts down
        stopped = self.cancel is not None and self.cancel.is_set()
        self.busy = ""
        self.cancel = None
        if self.conversation.current is not None and not stopped:
            self.conversation.current.add_class("discarded")  # the notice below says why
        await self.conversation.close_reply()
        if stopped:
            await self.notice("Stopped.", "info", "Send a message to go on, or /undo to go back.")
        else:
            text = describe(message.error)
            hint = text.hint
            if message.label == "connecting" and isinstance(message.error, LingcodeError):
                hint = RECONNECT_HINT
            await self.notice(text.message, text.level, hint)
        self._next_job()

    @on(Progress)
    async def _progress(self, message: Progress) -> None:
        if not self.live():
            return  # a message that arrived while the app shuts down
        await self.notice(message.text)

    @on(LoopEvent)
    async def _loop_event(self, message: LoopEvent) -> None:
        if not self.live():
            return  # a message that arrived while the app shuts down
        await events_view.show(self, message.event)

    # ---- input

    @on(Input.Submitted, "#prompt")
    async def _submitted(self, message: Input.Submitted) -> None:
        text = message.value.strip()
        if not text:
            return
        prompt = self.query_one(PromptInput)
        prompt.value = ""
        self.history.add(text)
        if self.busy == "connecting" and text != "/help":
            # the embedded model can take minutes to start: keep what was typed rather than refuse it
            self.waiting_input.append(text)
            await self.notice(f"Will send {text!r} once the model is ready.")
            return
        await self.dispatch(text)

    async def dispatch(self, text: str) -> None:
        """Act on one line of input: a /command or a task for the model."""
        if text.startswith("/"):
            try:
                command = parse_command(text)
            except LingcodeError as exc:
                await self.notice(exc.message, "warning", "Type /help for the commands and how to call them.")
                return
            await self.commands.run(command)
        else:
            await self.commands.ask(text)

    @on(EditReview.Decided)
    async def _decided(self, message: EditReview.Decided) -> None:
        self.query_one(PromptInput).focus()
        await self.commands.apply_chosen(message.accepted)

    @on(ContextPanel.DropRequested)
    async def _drop_requested(self, message: ContextPanel.DropRequested) -> None:
        await self.commands.drop([message.path])

    @on(ContextPanel.AddRequested)
    def _add_requested(self) -> None:
        prompt = self.query_one(PromptInput)
        prompt.value = "/add "
        prompt.cursor_position = len(prompt.value)
        prompt.focus()

    # ---- keys

    async def action_stop(self) -> None:
        """Esc: stop the model (or the tests) now."""
        if self.cancel is not None and not self.cancel.is_set():
            self.cancel.set()
            self.busy = "stopping"
            self.refresh_status()

    async def action_quit_twice(self) -> None:
        """Ctrl+C: the first stops what runs and warns; a second within two seconds quits."""
        now = self.clock()
        if self._ctrl_c_at is not None and now - self._ctrl_c_at <= QUIT_WINDOW_S:
            self.save_session()
            self.exit()
            return
        self._ctrl_c_at = now
        await self.action_stop()
        self.notify("Press Ctrl+C again to quit.", timeout=QUIT_WINDOW_S)

    def action_toggle_panels(self) -> None:
        """F2: show or hide the context and checks panels."""
        sidebar = self.query_one("#sidebar")
        self._panels_forced = not sidebar.display
        sidebar.display = self._panels_forced

    def action_reconnect(self) -> None:
        """Ctrl+R: try to open the model again after it failed."""
        if self.backend is None and not self.busy:
            self.open_backend()

    def action_focus_prompt(self) -> None:
        """Ctrl+L: back to the prompt."""
        self.query_one(PromptInput).focus()

    def on_resize(self, event: Resize) -> None:
        if self._panels_forced is None:
            self.query_one("#sidebar").display = event.size.width >= NARROW_BELOW

    def save_session(self) -> None:
        """Persist the conversation for `lingcode --resume`; a failure here must not block quitting."""
        if self.backend is None:
            return
        # nothing sensible to show on the way out; the session simply cannot be resumed
        with contextlib.suppress(Exception):
            self.backend.session.save()


def create_app(
    session_factory: SessionFactory,
    *,
    config: Config,
    root: Path,
    clock: Callable[[], float] = time.monotonic,
    show_timings: bool = True,
    history: InputHistory | None = None,
    blink: bool = True,
) -> LingcodeApp:
    """Build the app; tests pass a fixed `clock`, `show_timings=False`, `blink=False` for steady screens."""
    return LingcodeApp(
        session_factory,
        config=config,
        root=root,
        clock=clock,
        show_timings=show_timings,
        history=history,
        blink=blink,
    )
