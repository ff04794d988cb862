"""Feature tests run in-process on the test door (tests/support/inprocess.py), on the same
per-test database as every other test: a copy of the session's demo template."""
