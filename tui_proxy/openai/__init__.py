"""The OpenAI face: request validation, error shapes and response shaping, free of I/O."""
