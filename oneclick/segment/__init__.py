"""The valuable at-risk segment: selection by probability and profit, personalised offers from
the rule table, the profile of the segment against the rest, its report and plots.
"""
