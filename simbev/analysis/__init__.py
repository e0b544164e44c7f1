"""Analyses of simulated patients and cohorts: survival (Kaplan–Meier) and radiological response."""
