"""The tablet kiosk: what a guardian sees, reachable only with a valid one-time code."""
