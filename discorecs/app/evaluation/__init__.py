"""``discorecs evaluate``: every recommender side by side on one temporal split."""
