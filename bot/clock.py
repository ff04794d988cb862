"""The clock moved into the neutral core (bot/core/clock.py), which imports nothing above
it; this name stays so code outside the core keeps importing `bot.clock`."""

from bot.core.clock import LONDON, Clock, FixedClock, as_utc, format_date, format_day, format_when

__all__ = ["LONDON", "Clock", "FixedClock", "as_utc", "format_date", "format_day", "format_when"]
