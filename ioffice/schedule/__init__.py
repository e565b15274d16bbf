"""The agency's work calendar (lịch công tác): weekly schedules of the leaders' meetings and
events, edited by the office, published per week, with an iCalendar feed (docs/calendar.md)."""
