"""The web door: plain pages for people on neither Slack nor Teams, and for trying Convene."""
