"""Local ID-porten lookalike (node oidc-provider 8.x) and its Python process helper."""
