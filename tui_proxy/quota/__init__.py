"""What the subscription's limits look like: the windows the CLI reports (its
`rate_limit_event` after each request, its `get_usage` control reply when polled), held
as plain values that the engine publishes and every viewer reads."""
