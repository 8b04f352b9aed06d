"""The ways a case reaches intake; each turns its input into a `Submission`."""
