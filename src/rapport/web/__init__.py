"""HTTP surface: the REST API, the staff console, static assets."""
