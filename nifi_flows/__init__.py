"""NiFi flows as code: flow definitions, parameter contexts, validate and deploy (nipyapi)."""
