"""The report for the funders (Förderbericht)."""
