"""The Slack app manifest (manifest.yaml), shipped as package data."""
