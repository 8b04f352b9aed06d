"""Learned dispatch: a text classifier trained on past dispatch decisions."""
