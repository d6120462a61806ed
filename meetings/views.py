"""Views of the meetings app (thin: parse, ask the policy, call a service, render)."""
