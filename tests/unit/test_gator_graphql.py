"""GraphQL through the gator: the document is parsed, and only queries reach GitHub."""

from __future__ import annotations

import json

import pytest

from devaipod.gator import gql
from devaipod.gator.forge import ForgeError, GitHub
from devaipod.gator.scopes import Scopes

MUTATIONS = [
    "mutation { addStar(input: {starrableId: \"x\"}) { clientMutationId } }",
    "# a comment\nmutation { addStar(input: {}) { clientMutationId } }",
    ",mutation { x }",
    "\ufeff mutation { x }",
    "query A { viewer { login } } mutation B { x }",
    "mutation B { x } query A { viewer { login } }",
    "subscription { x }",
    "fragment F on Query { viewer { login } } mutation { ...F }",
]


@pytest.mark.parametrize("document", MUTATIONS)
def test_any_operation_but_a_query_is_refused(document):
    with pytest.raises(ForgeError, match=r"(mutation|subscription) operations are not allowed"):
        gql.check_read_only({"query": document, "operationName": "A"})


@pytest.mark.parametrize(("body", "why"), [
    ({"query": "mutation {"}, "does not parse"),
    ({"query": "mutation { x } }"}, "does not parse"),
    ({"query": "type Q { x: Int }"}, "not an executable"),
    ({"query": "fragment F on Query { x }"}, "no operation"),
    ({"query": ""}, "does not parse"),
    ({"query": {"mutation": 1}}, "needs a body"),
    ([{"query": "{ x }"}], "needs a body"),
    ("mutation { x }", "needs a body"),
    (None, "needs a body"),
    ({"query": "{ x }", "extensions": {"persistedQuery": {}}}, "unknown GraphQL request field"),
    ({"query": "{" * 5000 + "}" * 5000}, "refused"),
    ({"query": "{ x }" * 30000}, "longer than"),
])
def test_bodies_that_are_not_plain_queries_are_refused(body, why):
    with pytest.raises(ForgeError, match=why):
        gql.check_read_only(body)


def test_queries_pass_and_are_classified():
    assert gql.operation_kinds("{ viewer { login } }") == ["query"]
    assert gql.operation_kinds(
        "query A { a } query B { ...F } fragment F on Query { b }") == ["query", "query"]
    assert gql.operation_kinds("mutation M { a } subscription S { b }") == [
        "mutation", "subscription"]
    gql.check_read_only({"query": "# hi\n{ viewer { login } }", "variables": {"a": 1},
                         "operationName": None})


class Recorder(GitHub):
    """A GitHub that records what it would send, and answers 200."""

    def __init__(self, api: str = "https://ghe.example/api/v3") -> None:
        super().__init__(api=api, token="t")
        self.sent: list[tuple[str, str, object]] = []

    def send(self, method, url, body=None):
        from devaipod.gator.forge import Response

        self.sent.append((method, url, body))
        return Response(200, json.dumps({"data": {}}))


READ = Scopes(graphql="read")


@pytest.mark.parametrize("document", MUTATIONS)
def test_the_api_tool_sends_no_mutation(document):
    from devaipod.gator import tools

    gh = Recorder()
    for readonly in (False, True):
        gate = tools.Gate(lambda: READ, gh, readonly)
        with pytest.raises(ForgeError, match="refused"):
            tools.github_api_tool(gate, "graphql", "POST",
                                  {"query": document, "operationName": "A"})
        with pytest.raises(ForgeError, match="refused"):  # the body as a JSON string too
            tools.github_api_tool(gate, "/graphql", "POST", json.dumps({"query": document}))
    assert gh.sent == []


def test_the_api_tool_sends_queries_to_the_graphql_address():
    from devaipod.gator import tools

    gh = Recorder()
    gate = tools.Gate(lambda: READ, gh)
    tools.github_api_tool(gate, "graphql", "GET", {"query": "{ viewer { login } }"})
    assert gh.sent == [("POST", "https://ghe.example/api/graphql",
                        {"query": "{ viewer { login } }"})]
    assert Recorder("https://api.github.com").graphql_url == "https://api.github.com/graphql"
    with pytest.raises(ForgeError, match="not the address"):
        tools.github_api_tool(gate, "graphql?query=mutation{x}", "POST", {"query": "{ a }"})
    with pytest.raises(ForgeError, match='graphql = "read"'):
        tools.github_api_tool(tools.Gate(lambda: Scopes(), gh), "graphql", "POST",
                              {"query": "{ a }"})
    assert len(gh.sent) == 1
