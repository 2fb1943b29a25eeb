#!/usr/bin/env python3
"""A fake OpenAI-compatible chat-completions server, to drive OpenCode offline.

Standard library only:  python3 fakellm.py --port 18080 [--host H] [--log FILE]
(--port 0 picks a free port; the stdout line "fakellm listening on <port>" names it.)

The reply is decided by the LAST user message (one outer pair of double quotes is
stripped, since `opencode run` adds them). The first command found in it wins:

  WRITE_FILE <path> <content...>  `write` tool call; a relative path is made absolute
                                  against the system prompt's "Working directory:"
  RUN_BASH <cmd...>               `bash` tool call {"command": cmd, "description": "fake"}
  TOOL <name> <json-args>         a call of any tool, arguments passed verbatim
  SLOW <secs>                     text streamed over <secs> s, one chunk per 0.1 s;
                                  stops as soon as the client disconnects
  CMD1 && CMD2 && ...             one command per turn, in order; once all are done
                                  the reply is "FAKE_DONE: <last tool output>"
  anything else                   the text "FAKE_REPLY: <text>"

A title request (system prompt "You are a title generator...") gets "Fake title".
A command's arguments run to the end of its line (or to the next " && ").
GET /_requests lists the requests seen (method, path, Title-Case headers, body, and
"stream_end": "complete"|"disconnected"); POST /_reset clears them; --log appends them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import posixpath
import re
import select
import signal
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

MODEL = "fake-model"
COMMAND = re.compile(r"\b(WRITE_FILE|RUN_BASH|TOOL|SLOW)\b")
WORKDIR = re.compile(r"Working directory:[ \t]*(/[^\n]*)")
TITLE_PROMPT = "You are a title generator"
TICK = 0.1  # seconds between SLOW chunks
USAGE = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}


@dataclass
class Reply:
    """What to answer: plain text, or one tool call, optionally streamed slowly."""

    text: str = ""
    tool: str | None = None
    arguments: str = "{}"  # the tool call's arguments, as a JSON string
    slow: float = 0.0


def message_text(message: dict) -> str:
    """The text of a message whose content is a string or a list of parts."""
    content = message.get("content")
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content or ""


def strip_quotes(text: str) -> str:
    text = text.strip()
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def working_dir(messages: list[dict]) -> str | None:
    systems = (message_text(m) for m in messages if m.get("role") == "system")
    found = next((f for f in map(WORKDIR.search, systems) if f), None)
    return found.group(1).strip() if found else None


def is_title_request(messages: list[dict]) -> bool:
    return any(m.get("role") == "system" and message_text(m).lstrip().startswith(TITLE_PROMPT)
               for m in messages)


def parse_step(step: str, cwd: str | None) -> Reply:
    """One command (e.g. `RUN_BASH ls`) as a Reply; text without one is echoed."""
    found = COMMAND.search(step)
    if not found:
        return Reply(text=f"FAKE_REPLY: {step.strip()}")
    name, rest = found.group(1), step[found.end():].strip()
    if name == "WRITE_FILE":
        path, _, content = rest.partition(" ")
        if cwd and not path.startswith("/"):
            path = posixpath.join(cwd, path)
        return Reply(tool="write", arguments=json.dumps({"filePath": path, "content": content}))
    if name == "RUN_BASH":
        return Reply(tool="bash", arguments=json.dumps({"command": rest, "description": "fake"}))
    if name == "TOOL":
        tool, _, args = rest.partition(" ")
        return Reply(tool=tool, arguments=args.strip() or "{}")
    secs = float(num.group()) if (num := re.match(r"\d+(\.\d*)?", rest)) else 1.0
    return Reply(text=" ".join(f"slow{i}" for i in range(max(1, round(secs / TICK)))), slow=secs)


def decide(body: dict) -> Reply:
    messages = body.get("messages") or []
    if is_title_request(messages):
        return Reply(text="Fake title")
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    last = users[-1] if users else -1
    text = strip_quotes(message_text(messages[last])) if users else ""
    found = COMMAND.search(text)
    if not found:
        return Reply(text=f"FAKE_REPLY: {text}")
    steps = text[found.start():].split("\n", 1)[0].split(" && ")
    later = messages[last + 1:]
    done = sum(1 for m in later if m.get("role") == "assistant" and m.get("tool_calls"))
    if done < len(steps):
        return parse_step(steps[done], working_dir(messages))
    outputs = [message_text(m) for m in later if m.get("role") == "tool"]
    return Reply(text=f"FAKE_DONE: {outputs[-1] if outputs else ''}")


def pieces(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def chunk(cid: str, delta: dict | None = None, finish: str | None = None) -> dict:
    """One chat.completion.chunk; without a delta it is the final usage-only chunk."""
    body = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()),
            "model": MODEL, "choices": []}
    if delta is None:
        body["usage"] = USAGE
    else:
        body["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish}]
    return body


def stream_chunks(reply: Reply, cid: str) -> list[dict]:
    if reply.tool:
        call = {"index": 0, "id": f"call_{uuid.uuid4().hex[:24]}", "type": "function",
                "function": {"name": reply.tool, "arguments": ""}}
        first = chunk(cid, {"role": "assistant", "content": None, "tool_calls": [call]})
        args = [chunk(cid, {"tool_calls": [{"index": 0, "function": {"arguments": a}}]})
                for a in pieces(reply.arguments, 16)]
        return [first, *args, chunk(cid, {}, "tool_calls"), chunk(cid)]
    texts = [f"{w} " for w in reply.text.split()] if reply.slow else pieces(reply.text, 16)
    return [chunk(cid, {"role": "assistant", "content": ""}),
            *(chunk(cid, {"content": t}) for t in texts),
            chunk(cid, {}, "stop"), chunk(cid)]


def is_content(item: dict) -> bool:
    return bool(item["choices"] and item["choices"][0]["delta"].get("content"))


def completion(reply: Reply, cid: str) -> dict:
    message: dict = {"role": "assistant", "content": reply.text or None}
    if reply.tool:
        message["tool_calls"] = [{"id": f"call_{uuid.uuid4().hex[:24]}", "type": "function",
                                  "function": {"name": reply.tool, "arguments": reply.arguments}}]
    return {"id": cid, "object": "chat.completion", "created": int(time.time()), "model": MODEL,
            "choices": [{"index": 0, "message": message,
                         "finish_reason": "tool_calls" if reply.tool else "stop"}],
            "usage": USAGE}


class RequestLog:
    """Every request seen (thread-safe), optionally appended to a JSON-lines file."""

    def __init__(self, path: str | None = None):
        self.path, self.lock, self.items = path, threading.Lock(), []

    def add(self, record: dict) -> dict:
        with self.lock:
            self.items.append(record)
            if self.path:
                with open(self.path, "a", encoding="utf-8") as log:
                    log.write(json.dumps(record) + "\n")
        return record

    def all(self) -> list[dict]:
        with self.lock:
            return json.loads(json.dumps(self.items))

    def clear(self) -> dict:
        with self.lock:
            self.items.clear()
        return {"ok": True}


class Handler(BaseHTTPRequestHandler):
    server: FakeLLM

    def log_message(self, format, *args):  # quiet: requests are recorded instead
        pass

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/_requests":
            return self.send_json(self.server.requests.all())
        self.record(None)
        if path.rstrip("/") in ("/v1/models", "/models"):
            return self.send_json({"object": "list", "data": [
                {"id": MODEL, "object": "model", "created": 0, "owned_by": "fakellm"}]})
        self.send_json({"error": {"message": f"no such path: {path}"}}, 404)

    def do_POST(self):
        path, body = urlsplit(self.path).path, self.read_body()
        if path == "/_reset":
            return self.send_json(self.server.requests.clear())
        record = self.record(body)
        if not path.endswith("/chat/completions") or not isinstance(body, dict):
            return self.send_json({"error": {"message": f"bad request to {path}"}}, 404)
        reply, cid = decide(body), f"chatcmpl-{uuid.uuid4().hex[:12]}"
        if body.get("stream"):
            end = self.stream(reply, cid)
            with self.server.requests.lock:
                record["stream_end"] = end
        else:
            self.send_json(completion(reply, cid))

    def read_body(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw.decode("utf-8", "replace")

    def record(self, body) -> dict:
        return self.server.requests.add({"time": time.time(), "method": self.command,
                                         "path": self.path, "headers": self.header_dict(),
                                         "body": body})

    def header_dict(self) -> dict:
        """Request headers with Title-Case names, e.g. "Authorization"."""
        return {name.title(): value for name, value in self.headers.items()}

    def send_json(self, data, status: int = 200) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def stream(self, reply: Reply, cid: str) -> str:
        """Send the reply as SSE; returns "complete" or "disconnected"."""
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            for item in stream_chunks(reply, cid):
                if reply.slow and is_content(item):
                    time.sleep(TICK)
                    if self.client_gone():
                        return "disconnected"
                self.wfile.write(f"data: {json.dumps(item)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
        except OSError:  # BrokenPipeError, ConnectionResetError
            return "disconnected"
        return "complete"


class FakeLLM(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], log_path: str | None = None):
        super().__init__(address, Handler)
        self.requests = RequestLog(log_path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--host", default="0.0.0.0", help="address to bind (default: all)")
    parser.add_argument("--log", help="append every request to this file as JSON lines")
    args = parser.parse_args(argv)
    server = FakeLLM((args.host, args.port), args.log)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # also as PID 1 in a container
    print(f"fakellm listening on {server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
