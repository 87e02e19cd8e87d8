"""End-to-end tier: real image builds of the fixture apps in fixtures/e2e (marker `e2e`)."""
