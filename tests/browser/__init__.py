"""Browser tests: the served site in headless Chromium."""
