"""Copies of documents (bản sao, Decree 30/2020 articles 25-27, Appendix I part II): sao y,
sao lục and trích sao, decided by a leader, made and sealed by the office, numbered in the
agency's copies register and linked to the original. docs/copies.md."""
