"""A real MCP client (the official `mcp` SDK) for the MCP tests.

It opens one session with Herald's MCP server, over stdio (spawning the
`herald mcp` binary) or streamable HTTP (`/mcp`), runs the steps it is
given in order and prints what each one answered as one JSON line:

    python mcp_client.py stdio --steps steps.json -- /path/herald mcp --read-only
    python mcp_client.py http --url http://127.0.0.1:8080/mcp --token T --steps steps.json

Steps (a JSON list):

    {"list_tools": true}
        -> {"tools": [{"name", "description", "inputSchema", "annotations"}]}
    {"tool": "webhooks.create", "arguments": {...}}
        -> {"isError": bool, "text": [...], "structured": {...}}
    {"tool": ..., "arguments": ..., "until": {"path": "structured.status",
     "equals": "delivered", "timeout_s": 10}}
        calls again until the value at `path` equals `equals` (or fails
        when the time is up)
    {"list_resources": true} -> {"resources": [...], "templates": [...]}
    {"read_resource": "herald://webhooks/wh_…"} -> {"contents": [{"uri", "text", …}]}
    {"list_prompts": true} -> {"prompts": [...]}
    {"prompt": "webhooks.why_failing", "arguments": {...}} -> {"messages": [...]}

A request the server answers with a protocol error (not a tool error) is
recorded as {"protocol_error": {"code", "message"}} and the steps go on.

A string argument "${N:dotted.path}" is replaced by the value at that path
in step N's result (N counts from 0), e.g. "${1:structured.id}"; inside a
longer string it is replaced by the value's text
("herald://webhooks/${1:structured.id}").

With --expect-refusal the session must fail to start (a refused token or
host): it prints {"refused": "<the error>", "http_statuses": [...]} and
exits 0, or exits 1 if the session started.

Any other failure is a traceback and exit status 1.
"""

import argparse
import asyncio
import json
import os
import re
import sys
import time

import httpx2
from mcp import ClientSession, MCPError, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

REFERENCE = re.compile(r"\$\{(\d+):([^}]*)\}")


def lookup(value, path):
    for part in path.split("."):
        if part == "":
            continue
        if isinstance(value, list):
            value = value[int(part)]
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
        if value is None:
            return None
    return value


def resolve(value, results):
    """Replaces "${N:path}" strings by values of earlier results."""
    if isinstance(value, str):

        def found(match):
            step = results[int(match.group(1))]
            there = lookup(step, match.group(2))
            if there is None:
                raise SystemExit(f"{match.group(0)}: nothing there in {step}")
            return there

        whole = REFERENCE.fullmatch(value)
        if whole:
            return found(whole)
        return REFERENCE.sub(lambda m: str(found(m)), value)
    if isinstance(value, list):
        return [resolve(v, results) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, results) for k, v in value.items()}
    return value


def call_result(result):
    return {
        "isError": bool(result.is_error),
        "text": [c.text for c in result.content if getattr(c, "type", None) == "text"],
        "structured": result.structured_content,
    }


def dump(model):
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


async def run_step(session, step, results):
    if step.get("list_resources"):
        listed = await session.list_resources()
        templates = await session.list_resource_templates()
        return {
            "resources": [dump(r) for r in listed.resources],
            "templates": [dump(t) for t in templates.resource_templates],
        }
    if "read_resource" in step:
        read = await session.read_resource(resolve(step["read_resource"], results))
        return {"contents": [dump(c) for c in read.contents]}
    if step.get("list_prompts"):
        return {"prompts": [dump(p) for p in (await session.list_prompts()).prompts]}
    if "prompt" in step:
        arguments = resolve(step.get("arguments", {}), results)
        got = await session.get_prompt(step["prompt"], arguments)
        return {"messages": [dump(m) for m in got.messages]}
    return None


async def run_steps(session, steps):
    await session.initialize()
    results = []
    for step in steps:
        try:
            other = await run_step(session, step, results)
        except MCPError as error:
            results.append({"protocol_error": {"code": error.code, "message": error.message}})
            continue
        if other is not None:
            results.append(other)
            continue
        if step.get("list_tools"):
            listed = await session.list_tools()
            results.append({"tools": [dump(tool) for tool in listed.tools]})
            continue
        arguments = resolve(step.get("arguments", {}), results)
        until = step.get("until")
        deadline = time.monotonic() + (until or {}).get("timeout_s", 0)
        while True:
            result = call_result(await session.call_tool(step["tool"], arguments))
            if until is None or lookup(result, until["path"]) == until["equals"]:
                break
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"{step['tool']}: {until['path']} never became {until['equals']!r}; "
                    f"last answer: {json.dumps(result)}"
                )
            await asyncio.sleep(0.1)
        results.append(result)
    return results


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("transport", choices=["stdio", "http"])
    parser.add_argument("--steps", help="JSON file of steps")
    parser.add_argument("--url", help="the /mcp URL (http)")
    parser.add_argument("--token", help="bearer token (http)")
    parser.add_argument("--tenant", help="X-Herald-Tenant (http)")
    parser.add_argument("--expect-refusal", action="store_true")
    # The server command (stdio) follows `--`, untouched by argparse.
    argv = sys.argv[1:]
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    args.command = command
    if args.transport == "stdio" and not command:
        parser.error("stdio needs the server command after --")
    steps = []
    if args.steps:
        with open(args.steps) as f:
            steps = json.load(f)

    # The HTTP statuses the server answered, since the SDK's error for a
    # refused request does not say which.
    statuses = []

    async def session_over(read, write):
        async with ClientSession(read, write) as session:
            return await run_steps(session, steps)

    async def run():
        if args.transport == "stdio":
            params = StdioServerParameters(
                command=args.command[0], args=args.command[1:], env=dict(os.environ)
            )
            async with stdio_client(params) as (read, write):
                return await session_over(read, write)
        headers = {}
        if args.token:
            headers["Authorization"] = f"Bearer {args.token}"
        if args.tenant:
            headers["X-Herald-Tenant"] = args.tenant
        timeout = httpx2.Timeout(30.0, read=60.0)

        async def record(response):
            statuses.append(response.status_code)

        hooks = {"response": [record]}
        async with httpx2.AsyncClient(headers=headers, timeout=timeout, event_hooks=hooks) as http:
            async with streamable_http_client(args.url, http_client=http) as (read, write):
                return await session_over(read, write)

    if args.expect_refusal:
        try:
            # A refused session may also hang waiting for an answer that
            # never comes: that is a failure too, not a refusal.
            results = await asyncio.wait_for(run(), timeout=30)
        except asyncio.TimeoutError:
            print("the session neither started nor was refused in 30 s", file=sys.stderr)
            sys.exit(1)
        except BaseException as error:  # noqa: BLE001 - the SDK wraps errors in groups
            print(json.dumps({"refused": describe(error), "http_statuses": statuses}))
            return
        print(f"the session was expected to be refused, yet ran: {results}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(await run()))


def describe(error):
    """The innermost messages of a (possibly grouped) exception."""
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(describe(e) for e in error.exceptions)
    return f"{type(error).__name__}: {error}"


if __name__ == "__main__":
    asyncio.run(main())
