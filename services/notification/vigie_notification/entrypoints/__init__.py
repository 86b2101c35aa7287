"""Where the notification service meets the world: its subscription and its delivery worker."""
