"""Unit tests of the fake LLM, talking to it over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import fakellm  # loaded by path in conftest.py

FAKELLM_PY = Path(__file__).with_name("fakellm.py")

SYSTEM = {"role": "system", "content": "You are opencode.\n<env>\n  Working directory: /srv/proj\n"
          "  Is directory a git repo: no\n</env>"}
TITLE = {"role": "system", "content": "You are a title generator. You output ONLY a thread title."}


def user(text) -> dict:
    return {"role": "user", "content": text}


def parse_sse(raw: bytes) -> list[dict]:
    """The JSON chunks of an SSE body, checking the framing and the final [DONE]."""
    text = raw.decode()
    assert text.endswith("\n\n")
    events = text[:-2].split("\n\n")
    assert all(event.startswith("data: ") for event in events), events
    assert events[-1] == "data: [DONE]"
    return [json.loads(event[len("data: "):]) for event in events[:-1]]


def assemble(chunks: list[dict]) -> dict:
    """What a client makes of the chunks: text, tool calls, finish reason."""
    *body, last = chunks
    assert last["choices"] == [] and last["usage"]["total_tokens"] > 0
    text, calls, finish = "", {}, None
    for item in body:
        assert item["object"] == "chat.completion.chunk" and item["model"] == "fake-model"
        (choice,) = item["choices"]
        text += choice["delta"].get("content") or ""
        for delta in choice["delta"].get("tool_calls", []):
            call = calls.setdefault(delta["index"], {"arguments": ""})
            call.update({k: delta[k] for k in ("id", "type") if k in delta})
            call.setdefault("name", delta["function"].get("name"))
            call["arguments"] += delta["function"].get("arguments", "")
        finish = choice["finish_reason"] or finish
    return {"text": text, "calls": list(calls.values()), "finish": finish}


def chat(fake, messages: list[dict], **extra) -> dict:
    status, headers, raw = fake.http("POST", "/v1/chat/completions",
                                     {"model": "fake-model", "messages": messages,
                                      "stream": True, **extra})
    assert status == 200
    assert headers["Content-Type"] == "text/event-stream"
    return assemble(parse_sse(raw))


def only_call(reply: dict) -> tuple[str, dict]:
    assert reply["finish"] == "tool_calls" and reply["text"] == ""
    (call,) = reply["calls"]
    return call["name"], json.loads(call["arguments"])


def test_models_lists_fake_model(fake_llm):
    assert [m["id"] for m in fake_llm.json("GET", "/v1/models")["data"]] == ["fake-model"]


def test_text_reply_stream_format(fake_llm):
    chunks = parse_sse(fake_llm.http("POST", "/v1/chat/completions", {
        "messages": [SYSTEM, user("hello there, how are you today?")], "stream": True})[2])
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert len({c["id"] for c in chunks}) == 1
    reply = assemble(chunks)
    assert reply == {"text": "FAKE_REPLY: hello there, how are you today?", "calls": [],
                     "finish": "stop"}
    assert len(chunks) > 4  # the text came in several pieces


def test_tool_call_stream_format(fake_llm):
    chunks = parse_sse(fake_llm.http("POST", "/v1/chat/completions", {
        "messages": [SYSTEM, user("RUN_BASH echo a long enough command to split")],
        "stream": True})[2])
    (first,) = chunks[0]["choices"][0]["delta"]["tool_calls"]
    assert first["id"].startswith("call_") and first["type"] == "function"
    assert first["function"] == {"name": "bash", "arguments": ""}
    fragments = [c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
                 for c in chunks[1:-2]]
    assert len(fragments) > 1 and all(fragments)
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert only_call(assemble(chunks)) == (
        "bash", {"command": "echo a long enough command to split", "description": "fake"})


@pytest.mark.parametrize(("text", "path"), [
    ("WRITE_FILE notes/a.txt some content here", "/srv/proj/notes/a.txt"),
    ("WRITE_FILE /tmp/abs.txt some content here", "/tmp/abs.txt"),
])
def test_write_file(fake_llm, text, path):
    assert only_call(chat(fake_llm, [SYSTEM, user(text)])) == (
        "write", {"filePath": path, "content": "some content here"})


def test_write_file_without_working_directory_keeps_the_path(fake_llm):
    assert only_call(chat(fake_llm, [user("WRITE_FILE a.txt x")]))[1]["filePath"] == "a.txt"


def test_tool_passes_any_tool_and_arguments(fake_llm):
    reply = chat(fake_llm, [SYSTEM, user('TOOL glob {"pattern": "**/*.py", "path": "/srv"}')])
    assert only_call(reply) == ("glob", {"pattern": "**/*.py", "path": "/srv"})


def test_command_anywhere_first_wins_quotes_stripped(fake_llm):
    reply = chat(fake_llm, [SYSTEM, user('"please RUN_BASH echo WRITE_FILE x y"')])
    assert only_call(reply)[1]["command"] == "echo WRITE_FILE x y"
    reply = chat(fake_llm, [user('"just "quoted" text"')])
    assert reply["text"] == 'FAKE_REPLY: just "quoted" text'


def test_content_as_list_of_parts():
    body = {"messages": [SYSTEM, {"role": "user", "content": [
        {"type": "text", "text": "RUN_BASH ls"}, {"type": "image_url", "image_url": {}}]}]}
    assert fakellm.decide(body).tool == "bash"


def test_chain_one_command_per_turn(fake_llm):
    messages = [SYSTEM, user("WRITE_FILE a.txt hi && RUN_BASH cat a.txt && TOOL read {}")]
    seen = []
    for output in ("Wrote file successfully.", "hi", "<file>hi</file>"):
        reply = chat(fake_llm, messages)
        name, _ = only_call(reply)
        seen.append(name)
        call = reply["calls"][0]
        messages += [
            {"role": "assistant", "content": "", "tool_calls": [
                {"id": call["id"], "type": "function",
                 "function": {"name": name, "arguments": call["arguments"]}}]},
            {"role": "tool", "tool_call_id": call["id"], "content": output},
        ]
    assert seen == ["write", "bash", "read"]
    assert chat(fake_llm, messages) == {"text": "FAKE_DONE: <file>hi</file>", "calls": [],
                                        "finish": "stop"}
    # a new user message starts over with its own commands
    assert only_call(chat(fake_llm, [*messages, user("RUN_BASH pwd")]))[1]["command"] == "pwd"


def test_title_request_gets_fake_title_without_tools(fake_llm):
    messages = [TITLE, user("Generate a title for this conversation:\n"), user("RUN_BASH ls")]
    assert chat(fake_llm, messages) == {"text": "Fake title", "calls": [], "finish": "stop"}


def test_non_streaming_completion(fake_llm):
    text = fake_llm.json("POST", "/v1/chat/completions", {"messages": [user("hi")]})
    assert text["object"] == "chat.completion" and text["usage"]["total_tokens"] > 0
    assert text["choices"][0]["message"]["content"] == "FAKE_REPLY: hi"
    assert text["choices"][0]["finish_reason"] == "stop"
    tool = fake_llm.json("POST", "/v1/chat/completions", {"messages": [user("RUN_BASH id")]})
    (call,) = tool["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == "bash"
    assert json.loads(call["function"]["arguments"])["command"] == "id"
    assert tool["choices"][0]["finish_reason"] == "tool_calls"


def test_requests_recorded_with_authorization_and_reset(fake_llm):
    body = {"model": "fake-model", "messages": [user("hi")], "stream": True}
    request = urllib.request.Request(
        fake_llm.url + "/v1/chat/completions", data=json.dumps(body).encode(),
        headers={"authorization": "Bearer sk-test", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        resp.read()
    fake_llm.http("GET", "/v1/models")
    recorded = fake_llm.requests()
    assert [(r["method"], r["path"]) for r in recorded] == [
        ("POST", "/v1/chat/completions"), ("GET", "/v1/models")]
    assert recorded[0]["headers"]["Authorization"] == "Bearer sk-test"
    assert recorded[0]["body"] == body
    assert recorded[0]["stream_end"] == "complete"
    assert fake_llm.json("POST", "/_reset") == {"ok": True}
    assert fake_llm.requests() == []


def test_unknown_path_is_404(fake_llm):
    assert fake_llm.http("POST", "/v1/embeddings", {"input": "x"})[0] == 404
    assert fake_llm.http("GET", "/nothing")[0] == 404


def test_slow_streams_over_the_given_time(fake_llm):
    start = time.monotonic()
    reply = chat(fake_llm, [user("SLOW 0.5")])
    assert 0.45 <= time.monotonic() - start < 3
    assert reply["text"].split() == [f"slow{i}" for i in range(5)]
    assert reply["finish"] == "stop"


def test_slow_stops_when_the_client_disconnects(fake_llm):
    port = fake_llm.server.server_address[1]
    body = json.dumps({"messages": [user("SLOW 30")], "stream": True}).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        received = b""
        while b"slow1" not in received:
            received += sock.recv(4096)
    closed = time.monotonic()
    while fake_llm.requests()[0].get("stream_end") is None:
        assert time.monotonic() - closed < 2, "the stream went on after the disconnect"
        time.sleep(0.05)
    assert fake_llm.requests()[0]["stream_end"] == "disconnected"


def test_command_line_server_logs_requests(tmp_path):
    log = tmp_path / "requests.jsonl"
    proc = subprocess.Popen(
        [sys.executable, str(FAKELLM_PY), "--port", "0", "--host", "127.0.0.1", "--log", str(log)],
        stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("fakellm listening on ")
        port = int(line.split()[-1])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=10) as resp:
            assert json.load(resp)["data"][0]["id"] == "fake-model"
        (entry,) = [json.loads(x) for x in log.read_text().splitlines()]
        assert entry["method"] == "GET" and entry["path"] == "/v1/models"
    finally:
        proc.terminate()
        assert proc.wait(5) == 0  # SIGTERM is handled: a clean exit
