"""arq jobs: plain `async def job(ctx, ...)` functions, idempotent, taking ids only."""
