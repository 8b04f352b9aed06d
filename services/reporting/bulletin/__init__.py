"""The bulletin: a period's figures as text, a page, a PDF and spreadsheets."""
