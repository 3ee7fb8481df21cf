"""Agent CLIs (``gemini``, ``codex exec``, ``ollama run``) as providers: one process per request, with a timeout.

The prompt goes on stdin. Linux caps one argv string at ``MAX_ARG_STRLEN`` (128 KiB), so a prompt passed as an
argument fails once a task carries a few files; ``{prompt}`` in a configured command still works below that, and
above it the error says to drop the placeholder.
"""

from __future__ import annotations

import errno
import subprocess
from pathlib import Path

import anyio

from server.providers.base import Completion, CompletionRequest, ErrorClass, Provider, ProviderError

__all__ = ["CliProvider", "flatten_prompt"]

MODEL_PLACEHOLDER = "{model}"
PROMPT_PLACEHOLDER = "{prompt}"
MAX_ARG_BYTES = 128 * 1024 - 1
"""Linux's MAX_ARG_STRLEN (32 pages) less the terminating NUL: the longest single argument ``execve`` accepts."""


def flatten_prompt(request: CompletionRequest) -> str:
    """The conversation as one prompt: a CLI takes text, not turns."""
    parts = [request.system] if request.system else []
    if len(request.messages) == 1:
        parts.append(request.messages[0].content)
    else:
        parts.extend(f"[{m.role}]\n{m.content}" for m in request.messages)
    return "\n\n".join(parts)


class CliProvider(Provider):
    """Runs ``command`` (argv) with the prompt on stdin; ``{model}`` in it is replaced (``{prompt}`` too, if present).

    Args:
        name: The provider's configured name.
        command: The argv, e.g. ``["gemini", "-m", "{model}"]``.
        cwd: Where it runs: the session's project (the service runs elsewhere); default: this process's.
    """

    def __init__(self, name: str, *, command: list[str], cwd: Path | None = None) -> None:
        super().__init__(name)
        self.cwd = cwd
        if not command:
            raise ValueError(f"provider {name!r} (kind 'cli') needs command = [...] in the config")
        self.command = command

    async def complete(self, model: str, request: CompletionRequest, *, timeout_s: float) -> Completion:
        prompt = flatten_prompt(request)
        argv = [arg.replace(MODEL_PLACEHOLDER, model).replace(PROMPT_PLACEHOLDER, prompt) for arg in self.command]
        in_argv = any(PROMPT_PLACEHOLDER in arg for arg in self.command)
        if in_argv and max(len(arg.encode()) for arg in argv) > MAX_ARG_BYTES:
            raise ProviderError(
                ErrorClass.CLI_ERROR,
                f"the prompt is over {MAX_ARG_BYTES + 1} bytes, too long for a command-line argument: remove "
                f"{PROMPT_PLACEHOLDER} from provider {self.name!r}'s command so the prompt goes on stdin",
            )
        stdin = None if in_argv else prompt.encode()
        try:
            with anyio.fail_after(timeout_s):
                result = await anyio.run_process(argv, input=stdin, check=False, stderr=subprocess.PIPE, cwd=self.cwd)
        except TimeoutError as exc:
            raise ProviderError(ErrorClass.TIMEOUT, f"{argv[0]} did not finish within {timeout_s:g} s") from exc
        except FileNotFoundError as exc:
            raise ProviderError(ErrorClass.CLI_ERROR, f"command not found: {argv[0]}") from exc
        except OSError as exc:
            if exc.errno != errno.E2BIG:
                raise
            raise ProviderError(ErrorClass.CLI_ERROR, f"{argv[0]}: argument list too long") from exc
        if result.returncode != 0:
            tail = result.stderr.decode(errors="replace").strip()[-500:]
            raise ProviderError(ErrorClass.CLI_ERROR, f"{argv[0]} exited with status {result.returncode}: {tail}")
        return Completion(text=result.stdout.decode(errors="replace").strip())
