"""Audit reports for a period: the listed results with their signatures and QA outcomes, the
performance metrics with plots, and the audit chain verification, as CSV and PDF."""
