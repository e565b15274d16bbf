"""Vocabulary shared by incoming and outgoing documents (Decree 30/2020, Appendix III)."""
