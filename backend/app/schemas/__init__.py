"""The API's shapes: one pydantic family per entity (`ItemCreate`, `ItemUpdate`,
`ItemPublic`, `ItemsPage`...), the single source of what a request may hold and
what an answer holds. The API validates bodies with them and answers with them;
both API documents (Swagger 2.0 and OpenAPI 3.1) are generated from them.
Flask-free: the worker and scripts may import them too."""
