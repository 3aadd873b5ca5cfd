"""The public REST API under /api/v1/, for the services of the catalogue (OpenAPI)."""
