"""The model layer: an OpenAI-compatible client, the embedded and vLLM servers, and a scripted test server.

Only this package knows the OpenAI JSON shapes; the rest of lingcode sees `ModelClient.complete` -> `Reply`.
"""

from lingcode.model.client import ModelClient
from lingcode.model.embedded import open_model
from lingcode.model.reply import Constraint, Reply, ServerInfo

__all__ = ["Constraint", "ModelClient", "Reply", "ServerInfo", "open_model"]
