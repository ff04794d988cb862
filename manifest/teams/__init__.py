"""The Teams app manifest template (manifest.json), shipped as package data."""
