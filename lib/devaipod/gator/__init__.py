"""The gator: scoped GitHub access for the agent, as an MCP server (service-gator)."""
