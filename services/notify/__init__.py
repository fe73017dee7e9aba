"""The notify service: appear/leave events as webhooks, and push notifications worth a phone buzz (ntfy, Gotify)."""
