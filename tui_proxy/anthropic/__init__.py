"""The Anthropic Messages API's wire shapes (`/v1/messages`): request parsing into the neutral
`ModelRequest`, message objects and stream events, errors, and the model list."""
