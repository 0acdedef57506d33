"""Benchmarks: GraphQL against plain Starlette in the same server, reported as ratios."""
