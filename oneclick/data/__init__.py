"""The store's data: the contract (files, columns, categories), reading, validation, repairs,
the quality report and the merge into one row per customer with its EDA plots.
"""
