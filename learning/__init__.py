"""The learned triage's training and measurement (scikit-learn); applied by core/learned.py."""
