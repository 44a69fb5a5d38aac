"""The agent loop: prompts, model turns, edits, checks, checkpoints and run logs; it never imports the UI."""

from lingcode.loop.agent import Agent
from lingcode.loop.checks import CheckResult
from lingcode.loop.outcomes import RunEnded, RunResult
from lingcode.loop.session import Proposal, Session

__all__ = ["Agent", "CheckResult", "Proposal", "RunEnded", "RunResult", "Session"]
