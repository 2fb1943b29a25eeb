"""GraphQL through the gator: queries only, whatever the document looks like.

The document is parsed with graphql-core, never matched with a pattern:
comments, commas and whitespace are GraphQL's "ignored tokens", so
``# c\\nmutation {...}`` or ``,mutation {...}`` is a mutation, and a
document ``query A {...} mutation B {...}`` runs B when ``operationName``
says so. Every operation of the document must be a query; a document that
does not parse is refused too (GitHub would guess differently than we do).
"""

from __future__ import annotations

from typing import Any

from devaipod.gator.forge import ForgeError

MAX_LENGTH = 100_000  # characters of one document; GitHub's own limits are far lower
BODY_KEYS = ("query", "variables", "operationName")


def check_read_only(body: Any) -> None:
    """Refuse (ForgeError) a GraphQL request BODY that is not queries only."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise ForgeError('refused: a GraphQL call needs a body {"query": "..."}')
    unknown = sorted(set(body) - set(BODY_KEYS))
    if unknown:
        raise ForgeError(f"refused: unknown GraphQL request field {unknown[0]!r} "
                         f"(known: {', '.join(BODY_KEYS)})")
    kinds = operation_kinds(body["query"])
    if not kinds:
        raise ForgeError("refused: the GraphQL document has no operation")
    for kind in kinds:
        if kind != "query":
            raise ForgeError(f"refused: GraphQL {kind} operations are not allowed "
                             "(queries only)")


def operation_kinds(document: str) -> list[str]:
    """``query``/``mutation``/``subscription`` of each operation, in order.

    ForgeError if the document does not parse or defines anything but
    operations and fragments (a schema, a type, a directive...).
    """
    from graphql import GraphQLError, parse
    from graphql.language import FragmentDefinitionNode, OperationDefinitionNode

    if len(document) > MAX_LENGTH:
        raise ForgeError(f"refused: GraphQL document longer than {MAX_LENGTH} characters")
    try:
        parsed = parse(document, no_location=True)
    except GraphQLError as exc:
        raise ForgeError(f"refused: the GraphQL document does not parse: {exc.message}") \
            from None
    except RecursionError:
        raise ForgeError("refused: the GraphQL document is nested too deeply") from None
    kinds = []
    for definition in parsed.definitions:
        if isinstance(definition, OperationDefinitionNode):
            kinds.append(definition.operation.value)
        elif not isinstance(definition, FragmentDefinitionNode):
            raise ForgeError(f"refused: {definition.kind} is not an executable GraphQL "
                             "definition")
    return kinds
