"""The HTTP layer: aiohttp routes and middlewares. Speaks HTTP, delegates everything else."""
