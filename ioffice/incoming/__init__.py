"""Incoming documents: registration, numbering, distribution, handling, follow-up."""
