"""What the real Claude Code does with an MCP tool call that runs long, with and without progress notifications.

Each run is an offline session (against the fake Anthropic API on loopback) whose model calls one tool,
``mcp__slow__wait``, on a tiny stdio MCP server that sleeps ``seconds`` and, with ``progress``, sends a progress
notification every ``every`` seconds. The server logs when the call started, each notification, and whether the
call ended or was cancelled. Printed per run: when Claude Code gave up (the tool_result it handed its model, and
after how long), and what the server saw. No ``MCP_TOOL_TIMEOUT`` is set unless ``--tool-timeout-ms`` says so.

Run: .venv/bin/python bench/bench_claude_long_tool.py [--seconds 80 200] [--every 10] [--tool-timeout-ms N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.claude import REPO, claude_env, run_claude
from tests.fakes.anthropic_api import AnthropicFake, Conversation, ToolUse, Turn, serve_anthropic

TOOL = "mcp__slow__wait"
SERVER = textwrap.dedent(
    """
    import json, sys, time
    import anyio
    from mcp.server.mcpserver import Context, MCPServer

    LOG = sys.argv[1]
    server = MCPServer("slow")

    def log(event, **fields):
        with open(LOG, "a") as out:
            out.write(json.dumps({"t": time.time(), "event": event, **fields}) + "\\n")

    @server.tool()
    async def wait(seconds: float, progress: bool, every: float, ctx: Context) -> str:
        log("start", seconds=seconds, progress=progress)
        started = time.monotonic()
        try:
            while (left := seconds - (time.monotonic() - started)) > 0:
                await anyio.sleep(min(every, left))
                if progress:
                    done = time.monotonic() - started
                    await ctx.report_progress(done, seconds, f"{done:.0f} s")
                    log("progress", done=done)
        except BaseException as exc:
            log("ended", how=type(exc).__name__, after=time.monotonic() - started)
            raise
        log("ended", how="returned", after=time.monotonic() - started)
        return f"waited {seconds} s"

    server.run()
    """
)


def one_run(seconds: float, progress: bool, every: float, tool_timeout_ms: int | None) -> dict[str, Any]:
    marker = f"LONG-TOOL-{seconds:g}-{int(progress)}"
    call = ToolUse(TOOL, {"seconds": seconds, "progress": progress, "every": every})
    script = Conversation(marker, [Turn(tool_uses=(call,)), Turn(text="done")])
    with tempfile.TemporaryDirectory() as tmp, serve_anthropic(AnthropicFake([script])) as fake:
        root = Path(tmp)
        (root / "home").mkdir()
        (root / "proj").mkdir()
        server_py, log = root / "server.py", root / "server.jsonl"
        server_py.write_text(SERVER, encoding="utf-8")
        mcp = {
            "mcpServers": {
                "slow": {"command": str(REPO / ".venv" / "bin" / "python"), "args": [str(server_py), str(log)]}
            }
        }
        extra = {"MCP_CONNECTION_NONBLOCKING": "false"}
        if tool_timeout_ms is not None:
            extra["MCP_TOOL_TIMEOUT"] = str(tool_timeout_ms)
        env = claude_env(root / "home", fake, **extra)
        started = time.time()
        result = run_claude(
            f"{marker} go",
            root / "proj",
            env,
            root / "run",
            allowed_tools=(TOOL,),
            mcp_config=mcp,
            timeout_s=seconds + 120,
        )
        events = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        second = next(
            (r for r in fake.messages() if marker in json.dumps(r.body) and "tool_result" in json.dumps(r.body)), None
        )
    tool_result: Any = None
    if second is not None:
        for message in second.body["messages"]:
            for block in message.get("content", []) if isinstance(message.get("content"), list) else []:
                if block.get("type") == "tool_result":
                    tool_result = block
    start = next((e["t"] for e in events if e["event"] == "start"), started)
    ended = next((e for e in events if e["event"] == "ended"), None)
    return {
        "seconds": seconds,
        "progress": progress,
        "tool_timeout_ms": tool_timeout_ms,
        "notifications": sum(1 for e in events if e["event"] == "progress"),
        "server_ended": None if ended is None else f"{ended['how']} after {ended['after']:.1f} s",
        "tool_result": None if tool_result is None else json.dumps(tool_result.get("content"))[:300],
        "is_error": None if tool_result is None else tool_result.get("is_error", False),
        "session_wall_s": round(result.wall_s, 1),
        "call_to_session_end_s": round(started + result.wall_s - start, 1),
        "returncode": result.returncode,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, nargs="+", default=[80.0, 200.0])
    parser.add_argument("--every", type=float, default=10.0)
    parser.add_argument("--tool-timeout-ms", type=int, default=None)
    args = parser.parse_args()
    runs = [(s, p) for s in args.seconds for p in (False, True)]
    with ThreadPoolExecutor(len(runs)) as pool:
        results = list(pool.map(lambda run: one_run(run[0], run[1], args.every, args.tool_timeout_ms), runs))
    for row in results:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
