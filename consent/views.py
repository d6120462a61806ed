"""Views of the consent app (thin: parse, ask the policy, call a service, render)."""
