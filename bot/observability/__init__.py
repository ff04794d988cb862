"""Running Convene in production: structured logs with request ids, and Prometheus metrics.

The app shell wires these in (`bot.app`, `bot.cli`); features and doors know nothing of them.
"""
