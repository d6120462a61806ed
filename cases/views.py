"""Views of the cases app (thin: parse, ask the policy, call a service, render)."""
