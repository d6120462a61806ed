"""The public resource directory."""
