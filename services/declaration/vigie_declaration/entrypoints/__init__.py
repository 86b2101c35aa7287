"""Where the declaration service meets the world: HTTP routes and event subscriptions."""
