"""The Slack door: slack-bolt on our aiohttp server. Every Slack type stays in this package."""
