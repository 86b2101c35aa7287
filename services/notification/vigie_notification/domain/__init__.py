"""Pure rules of notification: who is told, how deliveries are identified and retried."""
