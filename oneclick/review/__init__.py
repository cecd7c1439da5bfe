"""Reviewer tooling: offline plot pages and the pull-request report comparing two revisions
(metrics, params and plots).
"""
