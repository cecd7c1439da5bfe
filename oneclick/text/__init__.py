"""What people read: the vocabulary (names, units, offers, statuses in ru/en), picking a phrase
in report.language, number formats and Markdown tables. Only the code that renders text imports
it, so renaming an offer or a unit reruns the stages that show it and nothing upstream.
"""
