"""Delivering queued messages: one sender loop, one door sender per platform."""
