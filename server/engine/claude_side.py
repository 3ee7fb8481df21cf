"""What a delegate call cost Claude: the tool_use input it wrote and the tool_result it read, in tokens.

Savings are net of these (docs/analytics.md): a delegation saves Claude's tokens for the answer, but Claude
still writes the call and reads the result. Both are estimated here, where their exact text is known, at
:data:`~server.engine.output.CHARS_PER_TOKEN` characters a token (the same conservative rate the output limit
uses), and kept on the answering attempt's ``delegation`` row. Claude Code hands its model the
structuredContent JSON when a result has both, so that is what is counted as read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from mcp_types import CallToolResult

from server.engine.output import CHARS_PER_TOKEN

__all__ = ["ask_tokens", "read_tokens"]


def _tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def ask_tokens(arguments: Mapping[str, Any]) -> int:
    """Tokens of the tool_use input Claude wrote: the call's arguments as JSON, defaults left out."""
    given = {name: value for name, value in arguments.items() if value not in (None, [], "")}
    return _tokens(json.dumps(given, ensure_ascii=False, default=str))


def read_tokens(result: CallToolResult) -> int:
    """Tokens of the tool_result Claude read: the structuredContent JSON when there is one, else the text."""
    if result.structured_content is not None:
        return _tokens(json.dumps(result.structured_content, ensure_ascii=False, separators=(",", ":")))
    return _tokens("".join(getattr(block, "text", "") for block in result.content))
